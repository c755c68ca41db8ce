/**
 * Registry operations shared by every front end (CLI, service): removing a
 * model with its pin, and re-verifying one at rest, keeping `verified` true to
 * what was last proven.
 */
import { rm } from 'node:fs/promises'
import type { LoadedConfig } from '../config/load.ts'
import { DaemonManager } from '../daemon/manager.ts'
import { ContentCorruptError, ContentMismatchError, DaemonNotRunningError, ModelNotFoundError, toCitrateError } from '../errors.ts'
import { modelsBackedBy, pinRm } from '../pins/pins.ts'
import { verifyModel, type ModelVerifyResult } from '../verify/model.ts'
import type { VerifyProgressEvent } from '../verify/verify.ts'
import { modelDir } from './model-files.ts'
import { ModelRegistry } from './registry.ts'
import type { ModelEntry } from './schema.ts'

export function registryOf (config: LoadedConfig): ModelRegistry {
  return new ModelRegistry({ modelsDir: config.paths.models })
}

export interface RemoveModelResult {
  removed: ModelEntry
  unpinned: boolean
  /** Why the pin was kept, when it was. */
  pinNote?: string
}

/**
 * Unpins (unless `keepPin`, or another entry uses the same content, or the
 * daemon is down), drops the registry entry, then deletes the model's own
 * folder — never content that was added from elsewhere.
 */
export async function removeModel (config: LoadedConfig, id: string, opts: { keepPin?: boolean, env?: NodeJS.ProcessEnv } = {}): Promise<RemoveModelResult> {
  const registry = registryOf(config)
  const entry = await registry.get(id)
  if (entry == null) throw new ModelNotFoundError(id)
  let unpinned = false
  let pinNote: string | undefined
  if (opts.keepPin !== true) {
    const others = modelsBackedBy(entry.cid, (await registry.list()).filter(m => m.id !== entry.id))
    if (others.length > 0) {
      pinNote = `pin kept: also used by ${others.map(m => m.id).join(', ')}`
    } else {
      try {
        const rpc = await new DaemonManager({ config, env: opts.env }).rpc()
        await pinRm(rpc, entry.cid, { models: [], force: true })
        unpinned = true
      } catch (err) {
        pinNote = err instanceof DaemonNotRunningError ? 'pin kept: the daemon is not running' : `pin kept: ${toCitrateError(err).message}`
      }
    }
  }
  await registry.remove(entry.id)
  await rm(modelDir(config.paths.models, entry.id), { recursive: true, force: true })
  return { removed: entry, unpinned, ...(pinNote != null ? { pinNote } : {}) }
}

/**
 * Re-verifies a registered model from its stored bytes and records the
 * outcome: `verified` becomes true on success and false on corruption.
 * @throws ContentCorruptError (with the first bad offset) or ContentMismatchError
 */
export async function verifyRegisteredModel (config: LoadedConfig, entry: ModelEntry, opts: { onProgress?: (e: VerifyProgressEvent) => void, signal?: AbortSignal } = {}): Promise<ModelVerifyResult> {
  const registry = registryOf(config)
  try {
    const r = await verifyModel(entry, { modelsDir: config.paths.models, ...opts })
    if (!entry.verified) await registry.update(entry.id, { verified: true })
    return r
  } catch (err) {
    if (err instanceof ContentCorruptError || err instanceof ContentMismatchError) await registry.update(entry.id, { verified: false })
    throw err
  }
}
