/**
 * Cluster operations over the REST client: pin and follow every peer until
 * replication_min replicas are pinned (or the timeout passes), unpin, list,
 * and the cluster's peers with their kubo and free space. The cluster does
 * the replicating (allocation, re-pinning); this only asks and watches.
 */
import { ReplicationIncompleteError, TimeoutError } from '../errors.ts'
import { sleep } from '../net/backoff.ts'
import type { ClusterClient } from './rest.ts'
import type { ClusterPeerStatus, ClusterPinProgress, GlobalPinInfo, PeerPinStatus } from './types.ts'

export interface ClusterPinOptions {
  name?: string
  /** 0: the cluster's default; -1: every peer. */
  replicationMin?: number
  replicationMax?: number
  /** How long to follow the peers before ReplicationIncompleteError, ms. */
  timeoutMs: number
  /** Time between status reads, ms (default 500). */
  pollMs?: number
  signal?: AbortSignal
  onProgress?: (e: ClusterPinProgress) => void
}

export interface ClusterPinOutcome {
  cid: string
  name: string
  required: number
  /** Cluster peer ids with the pin pinned. */
  pinned: string[]
  allocations: string[]
  peers: PeerPinStatus[]
}

/** Replicas a pin needs: its replication_min, or every peer when it is -1 (or 0 left to a cluster whose default is everywhere). */
function requiredReplicas (min: number, info: GlobalPinInfo): number {
  if (min > 0) return min
  return Math.max(1, info.peers.length)
}

/**
 * Pins `cid` in the cluster and follows each peer's state (queued → pinning →
 * pinned, or error), reporting every change, until `required` peers hold it
 * pinned. On timeout the pin stays in the cluster (which keeps trying) and
 * ReplicationIncompleteError says which peers are where.
 */
export async function clusterPin (client: ClusterClient, cid: string, opts: ClusterPinOptions): Promise<ClusterPinOutcome> {
  const started = Date.now()
  const pin = await client.pin(cid, { name: opts.name, replicationMin: opts.replicationMin, replicationMax: opts.replicationMax, signal: opts.signal })
  // The pin as the pinset holds it: the factors the cluster resolved (defaults applied), the allocations.
  const alloc = await client.allocation(cid, opts.signal)
  const min = alloc?.replicationMin ?? pin.replicationMin
  const allocations = alloc?.allocations ?? pin.allocations
  let info = await client.status(cid, opts.signal)
  const required = requiredReplicas(min, info)
  opts.onProgress?.({ type: 'citrate:cluster:requested', cid, allocations, required })
  const seen = new Map<string, string>()
  let lastCount = -1
  const pollMs = opts.pollMs ?? 500
  for (;;) {
    for (const p of info.peers) {
      const key = `${p.status}|${p.error ?? ''}`
      if (seen.get(p.peer) !== key) {
        seen.set(p.peer, key)
        opts.onProgress?.({ type: 'citrate:cluster:peer', cid, peer: p })
      }
    }
    const pinned = info.peers.filter(p => p.state === 'pinned').map(p => p.peer)
    if (pinned.length !== lastCount) {
      lastCount = pinned.length
      opts.onProgress?.({ type: 'citrate:cluster:progress', cid, pinned: pinned.length, required })
    }
    if (pinned.length >= required) {
      opts.onProgress?.({ type: 'citrate:cluster:done', cid, pinned: pinned.length, required })
      return { cid, name: alloc?.name ?? opts.name ?? '', required, pinned, allocations, peers: info.peers }
    }
    if (Date.now() - started >= opts.timeoutMs) {
      throw new ReplicationIncompleteError(cid, pinned.length, required, Math.round(opts.timeoutMs / 1000), info.peers)
    }
    await sleep(Math.min(pollMs, Math.max(0, opts.timeoutMs - (Date.now() - started))), opts.signal)
    info = await client.status(cid, opts.signal)
  }
}

/** Unpins `cid` cluster-wide; false when the cluster had no such pin. */
export async function clusterUnpin (client: ClusterClient, cid: string, signal?: AbortSignal): Promise<boolean> {
  return await client.unpin(cid, signal)
}

/**
 * The cluster's pins with every peer's state, or one pin's (`cid`). A CID
 * not in the pinset comes back with every peer `unpinned`.
 */
export async function clusterPins (client: ClusterClient, opts: { cid?: string, signal?: AbortSignal } = {}): Promise<GlobalPinInfo[]> {
  if (opts.cid != null) return [await client.status(opts.cid, opts.signal)]
  return await client.pins(opts.signal)
}

export interface ClusterStatusOptions {
  signal?: AbortSignal
  /**
   * Asks a kubo peer for its agent version (e.g. our daemon's `id <peer>`,
   * which works when it is connected to that peer); undefined when it cannot.
   */
  kuboVersionOf?: (ipfsPeerId: string) => Promise<string | undefined>
  /** Bounds each kuboVersionOf call, ms (default 5000). */
  kuboTimeoutMs?: number
}

export interface ClusterStatusOutcome {
  url: string
  self: string
  version: string
  peers: ClusterPeerStatus[]
}

/** The cluster's peers as the one we talk to sees them: id, name, version, their kubo (id, addresses, version if known) and free space. */
export async function clusterStatus (client: ClusterClient, opts: ClusterStatusOptions = {}): Promise<ClusterStatusOutcome> {
  const self = await client.id(opts.signal)
  const [peers, free] = await Promise.all([client.peers(opts.signal), client.freeSpace(opts.signal).catch(() => new Map<string, number>())])
  const out: ClusterPeerStatus[] = []
  for (const p of peers.sort((a, b) => a.peername.localeCompare(b.peername) || a.id.localeCompare(b.id))) {
    let kuboVersion: string | undefined
    if (opts.kuboVersionOf != null && p.ipfs.id !== '') {
      const ms = opts.kuboTimeoutMs ?? 5000
      const timer = new AbortController()
      kuboVersion = await Promise.race([
        opts.kuboVersionOf(p.ipfs.id).catch(() => undefined),
        sleep(ms, AbortSignal.any([timer.signal, ...(opts.signal != null ? [opts.signal] : [])])).then(() => { throw new TimeoutError(`asking kubo ${p.ipfs.id} for its version`, ms) })
      ]).catch(() => undefined)
      timer.abort()
    }
    const freeSpace = free.get(p.id)
    out.push({
      id: p.id,
      peername: p.peername,
      version: p.version,
      addresses: p.addresses,
      ipfs: { id: p.ipfs.id, addresses: p.ipfs.addresses, ...(kuboVersion != null ? { version: kuboVersion } : {}), ...(p.ipfs.error != null ? { error: p.ipfs.error } : {}) },
      ...(freeSpace != null ? { freeSpace } : {}),
      ...(p.error != null ? { error: p.error } : {})
    })
  }
  return { url: client.url, self: self.id, version: self.version, peers: out }
}

/** kubo's agent version ("kubo/0.43.0/…") as a version ("0.43.0"). */
export function kuboVersionFromAgent (agent: string): string | undefined {
  const m = /^(?:kubo|go-ipfs)\/([^/]+)/.exec(agent)
  return m?.[1]
}
