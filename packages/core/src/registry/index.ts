/** The model registry: `models/registry.json`, its schema, migration and lock. */
export { ModelRegistry, registryOf, type ModelRegistryOptions, type ModelEntryPatch } from './registry.ts'
export { sanitizeModelId, modelIdFromName } from './model-id.ts'
export {
  REGISTRY_VERSION, SUPPORTED_REGISTRY_VERSIONS, MODEL_KINDS, MODEL_SOURCES,
  type ModelEntry, type ModelKind, type ModelSource, type RegistryDocument
} from './schema.ts'
export { toStoredPath, fromStoredPath } from './home-paths.ts'
