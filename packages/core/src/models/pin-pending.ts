/**
 * Pins that auto_pin wanted but could not make (the daemon was not running
 * when the pull finished, or the pin failed): the registry marks such entries
 * `pin_pending`, and this pins them from the verified bytes on disk — the DAG
 * index gives the interior blocks, the content the leaves, each re-verified —
 * handed to kubo as a CAR, so nothing is fetched from the network.
 */
import type { CID } from 'multiformats/cid'
import type { CitratePaths } from '../config/paths.ts'
import type { KuboRpc } from '../daemon/rpc.ts'
import { toCitrateError } from '../errors.ts'
import { localBlocks } from '../fetch/local-blocks.ts'
import { DAG_INDEX_FILE, readDagIndex } from '../ipld/dag-index.ts'
import type { ModelRegistry } from '../registry/registry.ts'
import { bookkeepingPath } from '../registry/layout.ts'
import type { ModelEntry } from '../registry/schema.ts'
import { handToKubo } from './hand-to-kubo.ts'
import { entryDir } from './model-files.ts'

/** Why a pull that wanted a pin has none (the pull's `pin-skipped` reason; the CLI and UI add how to pin it). */
export const DAEMON_NOT_RUNNING_PIN_REASON = 'the daemon is not running; it is pinned when the daemon starts'

export interface PinPendingResult {
  pinned: string[]
  failed: Array<{ id: string, reason: string }>
}

/** Pins every registry entry marked `pin_pending` into the daemon behind `rpc`, from the bytes on disk; clears the mark of each pinned. */
export async function pinPending (opts: { rpc: KuboRpc, registry: ModelRegistry, paths: CitratePaths, timeoutMs: number, signal?: AbortSignal }): Promise<PinPendingResult> {
  const result: PinPendingResult = { pinned: [], failed: [] }
  for (const entry of (await opts.registry.list()).filter(e => e.pin_pending === true)) {
    try {
      await pinFromDisk(entry, opts)
      await opts.registry.update(entry.id, { pin_pending: undefined })
      result.pinned.push(entry.id)
    } catch (err) {
      result.failed.push({ id: entry.id, reason: toCitrateError(err).message })
    }
  }
  return result
}

async function pinFromDisk (entry: ModelEntry, opts: { rpc: KuboRpc, paths: CitratePaths, timeoutMs: number, signal?: AbortSignal }): Promise<void> {
  const index = await readDagIndex(bookkeepingPath(entryDir(opts.paths, entry), DAG_INDEX_FILE))
  const cache = { getBlock: async (cid: CID) => index.blocks.get(cid.toString()) }
  await handToKubo({ root: index.root, blocks: localBlocks(index.root, entry.path, cache, 0, undefined), rpc: opts.rpc, timeoutMs: opts.timeoutMs, signal: opts.signal })
}
