/**
 * The registry.json schema (the seed's, plus `kind`), its validation and the
 * migration from older versions. Validation names the first field at fault so a
 * broken file can be fixed by hand.
 */
import type { ModelEntry, ModelInfo, ModelKind, ModelSource } from '@citrate-ipfs/contract'
import { MODEL_KINDS, MODEL_SOURCES } from '@citrate-ipfs/contract/plain'
import { storedPathProblem } from './home-paths.ts'

// An entry is what `ipfs_list_models` returns, so its shape is the wire contract's.
export { MODEL_KINDS, MODEL_SOURCES, type ModelEntry, type ModelInfo, type ModelKind, type ModelSource }

export interface RegistryDocument {
  version: string
  models: ModelEntry[]
}

/**
 * "1.0" is the seed's schema; "1.1" adds `kind` (additive, so a reader of 1.0
 * that ignores unknown fields still reads it); "1.2" adds `info`, what the
 * model's bytes say (formats/describe.ts), and stores paths relative to
 * CITRATE_HOME (registry/home-paths.ts; absolute ones inside the home are
 * rewritten on load): a reader of 1.1 would take them for absolute ones, so
 * it must refuse the file, which it does (a newer version). "1.3" changes
 * the layout on disk, not the entry's fields (registry/layout.ts): our
 * bookkeeping moves into `<id>/.citrate/`, and a folder model's files sit
 * directly in `<id>/` (its entry's path is the folder itself) instead of one
 * level deeper in `<id>/<CID>/`; a reader of 1.2 would look for the DAG index
 * in the wrong place, so it refuses the file too.
 */
export const REGISTRY_VERSION = '1.3'
export const SUPPORTED_REGISTRY_VERSIONS = ['1.0', '1.1', '1.2', '1.3'] as const

/**
 * Versions whose models are in the layout before 1.3: opening such a
 * registry moves their files (registry/layout.ts, under the registry lock)
 * before the entries are rewritten with their new paths.
 */
export function needsLayoutMigration (version: string): boolean {
  return (SUPPORTED_REGISTRY_VERSIONS as readonly string[]).includes(version) && compareSchemaVersions(version, '1.3') < 0
}

/** A schema violation: the JSON path of the field and what is wrong with it. */
export class SchemaViolation {
  readonly field: string
  readonly problem: string
  constructor (field: string, problem: string) {
    this.field = field
    this.problem = problem
  }
}

/**
 * Validates (after migrating) a parsed registry. Returns the document in the
 * current version, a SchemaViolation, or `{ newer }` when the file is from a
 * future version we must not rewrite.
 */
export function parseRegistryDocument (raw: unknown): RegistryDocument | SchemaViolation | { newer: string } {
  if (raw == null || typeof raw !== 'object' || Array.isArray(raw)) return new SchemaViolation('(root)', 'expected a JSON object')
  const doc = raw as Record<string, unknown>
  const version = doc.version
  if (typeof version !== 'string') return new SchemaViolation('version', 'expected a string such as "1.2"')
  if (!(SUPPORTED_REGISTRY_VERSIONS as readonly string[]).includes(version)) {
    if (/^\d+\.\d+$/.test(version) && compareSchemaVersions(version, REGISTRY_VERSION) > 0) return { newer: version }
    return new SchemaViolation('version', `unknown schema version ${JSON.stringify(version)}`)
  }
  if (!Array.isArray(doc.models)) return new SchemaViolation('models', 'expected an array')
  const models: ModelEntry[] = []
  const seen = new Set<string>()
  for (let i = 0; i < doc.models.length; i++) {
    const migrated = migrateEntry(version, doc.models[i])
    const entry = validateEntry(migrated, `models[${i}]`)
    if (entry instanceof SchemaViolation) return entry
    const pathProblem = storedPathProblem(entry.path)
    if (pathProblem != null) return new SchemaViolation(`models[${i}].path`, pathProblem)
    if (seen.has(entry.id)) return new SchemaViolation(`models[${i}].id`, `duplicate id ${JSON.stringify(entry.id)}`)
    seen.add(entry.id)
    models.push(entry)
  }
  return { version: REGISTRY_VERSION, models }
}

/** An entry of `version` brought to REGISTRY_VERSION, one step at a time. */
function migrateEntry (version: string, raw: unknown): unknown {
  let e = raw
  if (version === '1.0') e = migrateEntryFrom10(e)
  // 1.1 → 1.2: `info` is new and optional; an entry without it is read as it is (its bytes are described at the next pull).
  // 1.2 → 1.3: the fields are the same; the files move on disk (needsLayoutMigration, registry/layout.ts).
  return e
}

/** 1.0 → 1.1: entries gain `kind` (everything the seed registered is a model). */
function migrateEntryFrom10 (raw: unknown): unknown {
  if (raw == null || typeof raw !== 'object' || Array.isArray(raw)) return raw
  const e = raw as Record<string, unknown>
  return { ...e, kind: e.kind ?? 'model' }
}

export function validateEntry (raw: unknown, at = 'entry'): ModelEntry | SchemaViolation {
  if (raw == null || typeof raw !== 'object' || Array.isArray(raw)) return new SchemaViolation(at, 'expected an object')
  const e = raw as Record<string, unknown>
  const str = (k: string): SchemaViolation | undefined =>
    typeof e[k] === 'string' && e[k] !== '' ? undefined : new SchemaViolation(`${at}.${k}`, 'expected a non-empty string')
  const strOrNull = (k: string): SchemaViolation | undefined =>
    e[k] === null || typeof e[k] === 'string' ? undefined : new SchemaViolation(`${at}.${k}`, 'expected a string or null')
  const problem =
    str('id') ?? str('name') ?? str('cid') ??
    (typeof e.size_bytes === 'number' && Number.isSafeInteger(e.size_bytes) && e.size_bytes >= 0 ? undefined : new SchemaViolation(`${at}.size_bytes`, 'expected a non-negative integer')) ??
    strOrNull('quantization') ??
    (typeof e.downloaded_at === 'string' && !Number.isNaN(Date.parse(e.downloaded_at)) ? undefined : new SchemaViolation(`${at}.downloaded_at`, 'expected an ISO 8601 date')) ??
    str('path') ??
    (MODEL_SOURCES.includes(e.source as ModelSource) ? undefined : new SchemaViolation(`${at}.source`, `expected one of ${MODEL_SOURCES.join(', ')}`)) ??
    strOrNull('source_url') ??
    (typeof e.verified === 'boolean' ? undefined : new SchemaViolation(`${at}.verified`, 'expected true or false')) ??
    (MODEL_KINDS.includes(e.kind as ModelKind) ? undefined : new SchemaViolation(`${at}.kind`, `expected one of ${MODEL_KINDS.join(', ')}`)) ??
    (e.pin_pending === undefined || typeof e.pin_pending === 'boolean' ? undefined : new SchemaViolation(`${at}.pin_pending`, 'expected true or false')) ??
    (e.info === undefined ? undefined : validateInfo(e.info, `${at}.info`))
  if (problem != null) return problem
  // Unknown fields are kept, so a newer writer's additions survive our rewrite.
  return e as unknown as ModelEntry
}

const INFO_STRINGS = ['architecture', 'name', 'quantization', 'license', 'tokenizer_model', 'model_type', 'torch_dtype', 'header_error'] as const
const INFO_COUNTS = ['parameter_count', 'file_type', 'context_length', 'embedding_length', 'block_count', 'tensor_count'] as const
const INFO_STRING_LISTS = ['dtypes', 'architectures'] as const

/** `info`: an object with a `format`; each known field, when present, of its type (unknown ones are kept). */
function validateInfo (raw: unknown, at: string): SchemaViolation | undefined {
  if (raw == null || typeof raw !== 'object' || Array.isArray(raw)) return new SchemaViolation(at, 'expected an object')
  const info = raw as Record<string, unknown>
  if (typeof info.format !== 'string' || info.format === '') return new SchemaViolation(`${at}.format`, 'expected a non-empty string')
  for (const k of INFO_STRINGS) if (info[k] !== undefined && typeof info[k] !== 'string') return new SchemaViolation(`${at}.${k}`, 'expected a string')
  for (const k of INFO_COUNTS) {
    const v = info[k]
    if (v !== undefined && !(typeof v === 'number' && Number.isSafeInteger(v) && v >= 0)) return new SchemaViolation(`${at}.${k}`, 'expected a non-negative integer')
  }
  for (const k of INFO_STRING_LISTS) {
    const v = info[k]
    if (v !== undefined && !(Array.isArray(v) && v.every(x => typeof x === 'string'))) return new SchemaViolation(`${at}.${k}`, 'expected an array of strings')
  }
  return undefined
}

function compareSchemaVersions (a: string, b: string): number {
  const [am = 0, an = 0] = a.split('.').map(Number)
  const [bm = 0, bn = 0] = b.split('.').map(Number)
  return am !== bm ? am - bm : an - bn
}
