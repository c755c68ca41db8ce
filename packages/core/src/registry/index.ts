export { ModelRegistry, type ModelRegistryOptions, type ModelEntryPatch } from './registry.ts'
export { sanitizeModelId, modelIdFromName } from './model-id.ts'
export { writeModelFiles, modelDir, type ModelFilesOptions } from './model-files.ts'
export {
  REGISTRY_VERSION, SUPPORTED_REGISTRY_VERSIONS, MODEL_KINDS, MODEL_SOURCES,
  type ModelEntry, type ModelKind, type ModelSource, type RegistryDocument
} from './schema.ts'
export { registryOf, removeModel, verifyRegisteredModel, type RemoveModelResult } from './operations.ts'
