/**
 * Per-model files in the model folder's `.citrate/` (registry/layout.ts), never
 * beside the content: `metadata.json` (the registry entry plus anything the
 * producer knows: source, license, shape record), `config.json` (runtime
 * settings for the model) and the DAG index. Written atomically.
 */
import { join } from 'node:path'
import { writeFileAtomic } from '../util/atomic-write.ts'
import { sanitizeModelId } from '../registry/model-id.ts'
import { toStoredPath } from '../registry/home-paths.ts'
import { bookkeepingPath, CONFIG_FILE, METADATA_FILE } from '../registry/layout.ts'
import type { CitratePaths } from '../config/paths.ts'
import type { ModelEntry, ModelKind } from '../registry/schema.ts'

export interface ModelFilesOptions {
  /** Extra metadata fields merged over the entry's. */
  metadata?: Record<string, unknown>
  /** Model runtime config; config.json is written only when given. */
  config?: Record<string, unknown>
  /** CITRATE_HOME: the entry's path is stored relative to it when inside it, as the registry stores it. */
  home?: string
}

/** Where entries of each kind live: models under models_path, datasets and checkpoints under training/, assets under assets/. */
const KIND_ROOTS: Record<ModelKind, (paths: CitratePaths) => string> = {
  model: p => p.models,
  dataset: p => p.datasets,
  checkpoint: p => p.checkpoints,
  asset: p => p.assets
}

export function kindRoot (paths: CitratePaths, kind: ModelKind): string {
  return KIND_ROOTS[kind](paths)
}

/** The folder of a registry entry of any kind: `<kind root>/<id>`. */
export function entryDir (paths: CitratePaths, entry: { id: string, kind: ModelKind }): string {
  return modelDir(kindRoot(paths, entry.kind), entry.id)
}

/** The folder holding a model's content (a file in it, or the folder model's own files) and `.citrate/`. */
export function modelDir (modelsDir: string, id: string): string {
  return join(modelsDir, sanitizeModelId(id))
}

/** Writes `<modelsDir>/<id>/.citrate/metadata.json` (and config.json if given); returns the paths written. */
export async function writeModelFiles (modelsDir: string, entry: ModelEntry, opts: ModelFilesOptions = {}): Promise<{ metadataPath: string, configPath?: string }> {
  const dir = modelDir(modelsDir, entry.id)
  const metadataPath = bookkeepingPath(dir, METADATA_FILE)
  await writeFileAtomic(metadataPath, JSON.stringify({ ...entry, ...(opts.home != null ? { path: toStoredPath(opts.home, entry.path) } : {}), ...opts.metadata }, null, 2) + '\n')
  if (opts.config == null) return { metadataPath }
  const configPath = bookkeepingPath(dir, CONFIG_FILE)
  await writeFileAtomic(configPath, JSON.stringify(opts.config, null, 2) + '\n')
  return { metadataPath, configPath }
}

/** The quantization a file name shows (`Q4_K_M`, `F16`, …), for the registry entry. */
export function guessQuantization (filename: string): string | null {
  const m = /(?:^|[._-])((?:I?Q\d(?:_[A-Z0-9]+)*)|F16|F32|BF16)(?=[._-]|$)/i.exec(filename)
  return m?.[1] != null ? m[1].toUpperCase() : null
}

/** The format config.json names: the file extension. */
export function guessFormat (filename: string): string {
  const ext = /\.([A-Za-z0-9]+)$/.exec(filename)?.[1]?.toLowerCase()
  return ext ?? 'unknown'
}
