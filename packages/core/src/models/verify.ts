/**
 * Verifying a model at rest, and recording the outcome in the registry: with
 * its DAG index when one was recorded (any DAG shape, damage located to the
 * block), else by re-hashing with kubo's standard import shapes (the common
 * case of content made by `ipfs add` defaults; a mismatch cannot be located then).
 */
import { access } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { LoadedConfig } from '../config/load.ts'
import { ContentCorruptError, ContentMismatchError, DagIndexError } from '../errors.ts'
import { parseCid, sameCid } from '../ipld/cid.ts'
import { hashPath } from '../publish/publish.ts'
import type { ImportShapeOptions } from '../publish/options.ts'
import { kindRoot, modelDir } from './model-files.ts'
import { registryOf } from '../registry/registry.ts'
import { BOOKKEEPING_DIR, bookkeepingPath } from '../registry/layout.ts'
import type { ModelEntry } from '../registry/schema.ts'
import { DAG_INDEX_FILE, readDagIndex } from '../ipld/dag-index.ts'
import { verifyContent, type VerifyOptions, type VerifyProgressEvent, type VerifyResult } from '../verify/verify.ts'

export interface VerifyModelOptions extends VerifyOptions {
  /** models_path: where `<id>/.citrate/dag-index.car` is looked for. */
  modelsDir: string
}

export interface ModelVerifyResult extends VerifyResult {
  method: 'dag-index' | 'rehash'
}

export async function verifyModel (entry: ModelEntry, opts: VerifyModelOptions): Promise<ModelVerifyResult> {
  const dir = modelDir(opts.modelsDir, entry.id)
  const indexFile = bookkeepingPath(dir, DAG_INDEX_FILE)
  // A folder model is the model folder itself: our `.citrate/` in it is not the content's.
  const inPlace = resolve(entry.path) === resolve(dir)
  const hasIndex = await access(indexFile).then(() => true, () => false)
  if (hasIndex) {
    const index = await readDagIndex(indexFile).catch((err: unknown) => {
      throw new DagIndexError('DAG_INDEX_CORRUPT', `the DAG index of ${entry.id} (${indexFile}) is unreadable; re-add or re-pull to rebuild it`, { cause: err })
    })
    if (!sameCid(index.root.toString(), entry.cid)) {
      throw new DagIndexError('DAG_INDEX_CORRUPT', `the DAG index of ${entry.id} is for ${index.root.toString()}, not ${entry.cid}`)
    }
    return { ...await verifyContent(entry.id, entry.path, index, { ...opts, ...(inPlace ? { ignoreAtRoot: [BOOKKEEPING_DIR] } : {}) }), method: 'dag-index' }
  }
  const tried: string[] = []
  for (const shape of standardShapesFor(entry.cid)) {
    const r = await hashPath(entry.path, { ...shape, signal: opts.signal, onProgress: e => { if (e.type === 'citrate:publish:bytes') opts.onProgress?.({ type: 'citrate:verify:bytes', bytes: e.bytes }) } })
    if (sameCid(r.cid, entry.cid)) return { cid: entry.cid, bytes: r.size, blocks: r.blocks, files: r.isDirectory ? 0 : 1, skippedSymlinks: [], method: 'rehash' }
    tried.push(r.cid)
  }
  throw new ContentMismatchError(entry.id, entry.cid, tried)
}

/**
 * Re-verifies a registered model from its stored bytes and records the
 * outcome: `verified` becomes true on success and false on corruption.
 * @throws ContentCorruptError (with the first bad offset) or ContentMismatchError
 */
export async function verifyRegisteredModel (config: LoadedConfig, entry: ModelEntry, opts: { onProgress?: (e: VerifyProgressEvent) => void, signal?: AbortSignal } = {}): Promise<ModelVerifyResult> {
  const registry = registryOf(config)
  try {
    // A dataset's or checkpoint's index is in its own kind's folder, not under models_path.
    const r = await verifyModel(entry, { modelsDir: kindRoot(config.paths, entry.kind), ...opts })
    // The registry as it is now decides, not the (possibly stale) entry the caller holds.
    if ((await registry.get(entry.id))?.verified === false) await registry.update(entry.id, { verified: true })
    return r
  } catch (err) {
    if (err instanceof ContentCorruptError || err instanceof ContentMismatchError) await registry.update(entry.id, { verified: false })
    throw err
  }
}

/** kubo's standard shapes that can produce a CID of this version. */
function standardShapesFor (cid: string): ImportShapeOptions[] {
  let version: number
  try {
    version = parseCid(cid).version
  } catch {
    return [{}]
  }
  return version === 0
    ? [{}]
    : [{ cidVersion: 1 }, { profile: 'unixfs-v1-2025' }, { cidVersion: 1, rawLeaves: false }]
}
