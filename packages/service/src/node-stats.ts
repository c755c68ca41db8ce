/**
 * ipfs_node_stats: the node at a glance. Each call reads kubo's own numbers
 * (swarm/peers, repo/stat, stats/bw), the disk under the repo and the end of
 * the daemon log. Every part is best-effort: a part kubo refuses (an offline
 * node has no swarm) is left out with a note, so one gap never blanks the page.
 * The bandwidth rates of the last calls are kept here, so a chart survives a
 * reload and every window draws the same line.
 */
import { statfs } from 'node:fs/promises'
import type { DaemonManager, KuboRpc, LoadedConfig } from '@citrate-ipfs/core'
import type { BandwidthSample, NodeStats } from '@citrate-ipfs/contract'

const HISTORY = 120
/** Each RPC part gets this long: the page polls once a second and must not pile up calls behind a busy daemon. */
const PART_TIMEOUT_MS = 3000

export class NodeSampler {
  private readonly history: BandwidthSample[] = []

  async stats (cfg: LoadedConfig, manager: DaemonManager, logLines: number): Promise<NodeStats> {
    const notes: string[] = []
    const part = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await fn()
      } catch (err) {
        notes.push(`${what}: ${(err as Error).message}`)
        return undefined
      }
    }
    const running = await part('daemon', async () => await manager.runningDaemon())
    const rpc: KuboRpc | undefined = running?.rpc
    const [peers, repo, bw, disk, logTail] = await Promise.all([
      rpc != null && !cfg.ipfs.offline ? part('peers', async () => (await rpc.json<{ Peers: unknown[] | null }>('swarm/peers', {}, { timeoutMs: PART_TIMEOUT_MS })).Peers?.length ?? 0) : undefined,
      rpc != null ? part('repo', async () => await rpc.json<{ RepoSize: number, StorageMax?: number }>('repo/stat', { 'size-only': true }, { timeoutMs: PART_TIMEOUT_MS })) : undefined,
      rpc != null ? part('bandwidth', async () => await rpc.json<{ TotalIn: number, TotalOut: number, RateIn: number, RateOut: number }>('stats/bw', {}, { timeoutMs: PART_TIMEOUT_MS })) : undefined,
      part('disk', async () => await statfs(cfg.paths.ipfsRepo).catch(async () => await statfs(cfg.paths.home))),
      part('log', async () => logLines > 0 ? await manager.logs(logLines) : '')
    ])
    if (bw != null) {
      this.history.push({ at: Date.now(), rate_in: bw.RateIn, rate_out: bw.RateOut })
      if (this.history.length > HISTORY) this.history.splice(0, this.history.length - HISTORY)
    }
    return {
      running: running != null,
      offline: cfg.ipfs.offline,
      ...(peers != null ? { peers } : {}),
      ...(repo != null ? { repo: { size_bytes: repo.RepoSize, ...(repo.StorageMax != null ? { storage_max_bytes: repo.StorageMax } : {}), path: cfg.paths.ipfsRepo } } : {}),
      ...(disk != null ? { disk: { free_bytes: disk.bavail * disk.bsize, total_bytes: disk.blocks * disk.bsize } } : {}),
      ...(bw != null ? { bandwidth: { total_in: bw.TotalIn, total_out: bw.TotalOut, rate_in: bw.RateIn, rate_out: bw.RateOut } } : {}),
      history: [...this.history],
      log_tail: logTail ?? '',
      notes
    }
  }
}
