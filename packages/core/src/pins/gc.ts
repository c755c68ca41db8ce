/**
 * Garbage collection: kubo frees every block no pin protects; in CITRATE_HOME
 * we remove partial downloads and temp files nobody has touched for a while.
 */
import { readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import PQueue from 'p-queue'
import lockfile from 'proper-lockfile'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import type { KuboRpc } from '../daemon/rpc.ts'
import { pullsRoot } from '../config/paths.ts'

export interface GcOptions {
  signal?: AbortSignal
  /** A partial file untouched for this long is stale; default 24 h. */
  staleAfterMs?: number
  /** Report what would be removed without removing it. */
  dryRun?: boolean
  /** CITRATE_HOME: its resumable pulls (`tmp/pulls/v1/<cid>/`) that are unlocked and stale are removed. */
  citrateHome?: string
  /** Called for each block kubo frees (best effort). */
  onProgress?: (event: { type: 'citrate:gc:block', freed: number }) => void
}

export interface GcResult {
  /** Blocks kubo removed (or that it would remove, with dryRun). */
  blocksFreed: number
  /** Their bytes. */
  bytesFreed: number
  /** Stale partial files and abandoned pull folders removed (or that would be, with dryRun). */
  partialFiles: string[]
  partialBytes: number
}

/** Names of in-progress artefacts: downloads (`*.partial`, `*.part`) and their sidecars, atomic-write temps (`*.tmp`). */
const PARTIAL = /\.(partial|part|tmp)(\.json|\.2)?$/

/** Runs `repo/gc` when `rpc` is given, then sweeps stale partial files under `dirs`. */
export async function collectGarbage (rpc: KuboRpc | undefined, dirs: string[], opts: GcOptions = {}): Promise<GcResult> {
  let blocksFreed = 0
  let bytesFreed = 0
  if (rpc != null) {
    // What kubo will free, sized first (the bytes are gone once it has): the same plan answers a dry run.
    const plan = await planGc(rpc, opts.signal)
    if (opts.dryRun === true) {
      blocksFreed = plan.size
      for (const size of plan.values()) bytesFreed += size
    } else {
      for await (const line of rpc.ndjson<{ Key?: { '/': string }, Error?: string }>('repo/gc', {}, { timeoutMs: 60 * 60_000, signal: opts.signal })) {
        if (line.Key != null) {
          blocksFreed++
          bytesFreed += plan.get(multihashKey(line.Key['/'])) ?? 0
          opts.onProgress?.({ type: 'citrate:gc:block', freed: blocksFreed })
        }
      }
    }
  }
  const staleBefore = Date.now() - (opts.staleAfterMs ?? 24 * 3600_000)
  const partialFiles: string[] = []
  let partialBytes = 0
  const sweep = async (dir: string, depth: number): Promise<void> => {
    for (const ent of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const p = join(dir, ent.name)
      if (ent.isDirectory() && depth < 4) await sweep(p, depth + 1)
      else if (ent.isFile() && PARTIAL.test(ent.name)) {
        const st = await stat(p).catch(() => undefined)
        if (st == null || st.mtimeMs > staleBefore) continue
        partialFiles.push(p)
        partialBytes += st.size
        if (opts.dryRun !== true) await rm(p, { force: true })
      }
    }
  }
  for (const d of dirs) await sweep(d, 0)
  if (opts.citrateHome != null) {
    const root = pullsRoot(opts.citrateHome)
    for (const ent of await readdir(root, { withFileTypes: true }).catch(() => [])) {
      if (!ent.isDirectory()) continue
      const dir = join(root, ent.name)
      // A pull in progress (or queued) holds its lock: never touch it.
      if (await lockfile.check(dir, { realpath: false, lockfilePath: `${dir}.lock`, stale: 5000 }).catch(() => true)) continue
      const { newest, bytes } = await treeStats(dir)
      if (newest > staleBefore) continue
      partialFiles.push(dir)
      partialBytes += bytes
      if (opts.dryRun !== true) await rm(dir, { recursive: true, force: true })
    }
  }
  return { blocksFreed, bytesFreed, partialFiles, partialBytes }
}

/**
 * The blocks `repo/gc` would remove, by multihash, with their sizes: every
 * local block (kubo keys its blockstore by multihash, so `refs/local` names
 * them as raw CIDs) that no GC root reaches — recursive pins with their whole
 * DAGs, direct pins, and the MFS root's DAG (kubo's best-effort root: what of
 * it is missing is skipped, never fetched).
 */
export async function planGc (rpc: KuboRpc, signal?: AbortSignal): Promise<Map<string, number>> {
  const opts = { timeoutMs: 10 * 60_000, signal }
  const kept = new Set<string>()
  const keepDag = async (root: string, bestEffort: boolean): Promise<void> => {
    kept.add(multihashKey(root))
    try {
      for await (const r of rpc.ndjson<{ Ref?: string, Err?: string }>('refs', { arg: root, recursive: true, unique: true, offline: true }, opts)) {
        if (r.Ref != null && r.Ref !== '') kept.add(multihashKey(r.Ref))
      }
    } catch (err) {
      if (!bestEffort) throw err
    }
  }
  for (const type of ['recursive', 'direct'] as const) {
    const pins = await rpc.json<{ Keys?: Record<string, unknown> }>('pin/ls', { type }, opts)
    for (const cid of Object.keys(pins.Keys ?? {})) {
      if (type === 'recursive') await keepDag(cid, false)
      else kept.add(multihashKey(cid))
    }
  }
  const mfs = await rpc.json<{ Hash?: string }>('files/stat', { arg: '/', hash: true }, opts).catch(() => ({ Hash: undefined }))
  if (mfs.Hash != null) await keepDag(mfs.Hash, true)

  const doomed: string[] = []
  for await (const r of rpc.ndjson<{ Ref?: string }>('refs/local', {}, opts)) {
    if (r.Ref != null && r.Ref !== '' && !kept.has(multihashKey(r.Ref))) doomed.push(r.Ref)
  }
  const plan = new Map<string, number>()
  const stats = new PQueue({ concurrency: 8 })
  await stats.addAll(doomed.map(cid => async () => {
    const st = await rpc.json<{ Size?: number }>('block/stat', { arg: cid, offline: true }, opts)
    plan.set(multihashKey(cid), st.Size ?? 0)
  }))
  return plan
}

/** A block's identity in kubo's blockstore: its multihash (a CIDv0 and its CIDv1 spellings are one block). */
function multihashKey (cid: string): string {
  return base58btc.encode(CID.parse(cid).multihash.bytes)
}

/** Newest mtime and total size below a folder (a resumed pull touches its files). */
async function treeStats (dir: string): Promise<{ newest: number, bytes: number }> {
  let newest = (await stat(dir)).mtimeMs
  let bytes = 0
  for (const ent of await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) {
    const st = await stat(join(ent.parentPath, ent.name)).catch(() => undefined)
    if (st == null) continue
    newest = Math.max(newest, st.mtimeMs)
    if (st.isFile()) bytes += st.size
  }
  return { newest, bytes }
}
