/**
 * Removing a model, as every front end (CLI, service) does it: its pin, its
 * registry entry, its folder.
 */
import { rm } from 'node:fs/promises'
import type { LoadedConfig } from '../config/load.ts'
import { DaemonManager } from '../daemon/manager.ts'
import { DaemonNotRunningError, ModelNotFoundError, toCitrateError } from '../errors.ts'
import { modelsBackedBy, pinRm } from '../pins/pins.ts'
import { registryOf } from '../registry/registry.ts'
import type { ModelEntry } from '../registry/schema.ts'
import { entryDir } from './model-files.ts'

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
  await rm(entryDir(config.paths, entry), { recursive: true, force: true })
  return { removed: entry, unpinned, ...(pinNote != null ? { pinNote } : {}) }
}
