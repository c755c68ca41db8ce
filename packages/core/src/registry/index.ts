/** The model registry: `models/registry.json`, its schema, migration and lock. */
export { ModelRegistry, registryOf, type ModelRegistryOptions, type ModelEntryPatch } from './registry.ts'
export { sanitizeModelId, modelIdFromName } from './model-id.ts'
export {
  REGISTRY_VERSION, SUPPORTED_REGISTRY_VERSIONS, needsLayoutMigration, MODEL_KINDS, MODEL_SOURCES,
  type ModelEntry, type ModelKind, type ModelSource, type RegistryDocument
} from './schema.ts'
export { toStoredPath, fromStoredPath } from './home-paths.ts'
export { BOOKKEEPING_DIR, BOOKKEEPING_FILES, METADATA_FILE, CONFIG_FILE, bookkeepingPath, migrateEntryLayout, type KindRoots } from './layout.ts'
