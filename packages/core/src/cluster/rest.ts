/**
 * A client of IPFS Cluster's REST API (checked against ipfs-cluster-service
 * v1.1.0): the peers, one pin's status on every peer, the pinset, pin and
 * unpin, and the free-space metric. v1.x streams its lists as NDJSON (one
 * JSON object per line, 204 when empty), which `GET /peers` and `GET /pins`
 * are read as. Every call has the config's timeout and the core retry policy.
 */
import { parseCid } from '../ipld/cid.ts'
import { normalizeGatewayUrl } from '../config/url.ts'
import { ClusterApiError, ClusterUnreachableError, ConfigError } from '../errors.ts'
import { authorizationHeader, clusterSecretFile, readSecretFile, type ClusterConfig, type ClusterSecret } from '../config/fleet.ts'
import { httpApiCall, HttpUnreachable, parseNdjson, type HttpApiAnswer } from '../net/http-api.ts'
import type { ClusterPeerView, GlobalPinInfo, PeerPinStatus, PinPeerState, TrackerStatus } from './types.ts'

export interface ClusterClientOptions {
  url: string
  /** The Authorization header value, if the API asks for one. */
  authorization?: string
  /** One call's timeout (retries included), ms. */
  timeoutMs?: number
}

/** A client for a configured cluster: the secret is read from its 0600 file now, and kept only in this object. */
export async function clusterClientFromConfig (cfg: ClusterConfig, home: string): Promise<ClusterClient> {
  let authorization: string | undefined
  if (cfg.auth !== 'none') {
    const file = clusterSecretFile(home)
    const secret = await readSecretFile<ClusterSecret>(file)
    const missing = cfg.auth === 'basic' ? secret?.password == null : secret?.token == null
    if (missing) throw new ConfigError(`[ipfs.cluster] auth = "${cfg.auth}" but ${file} holds no ${cfg.auth === 'basic' ? 'password' : 'token'}`, 'cluster.auth')
    authorization = authorizationHeader(cfg.auth, cfg.username, secret)
  }
  return new ClusterClient({ url: cfg.url, authorization, timeoutMs: cfg.timeout_seconds * 1000 })
}

const KNOWN_STATUSES: readonly string[] = [
  'pinned', 'pinning', 'queued', 'pin_queued', 'pin_error', 'unpinned', 'unpinning', 'unpin_queued', 'unpin_error',
  'remote', 'cluster_error', 'pin_unexpectedly', 'sharded', 'undefined', 'error'
]

/** The tag under which a cluster peer announces its gateway (informer.tags in service.json). */
export const GATEWAY_TAG = 'gateway'

export class ClusterClient {
  readonly url: string
  readonly #authorization: string | undefined
  readonly timeoutMs: number

  constructor (opts: ClusterClientOptions) {
    this.url = opts.url.replace(/\/+$/, '')
    this.#authorization = opts.authorization
    this.timeoutMs = opts.timeoutMs ?? 30_000
  }

  /** One call; an error status becomes ClusterApiError unless `accept` takes it. */
  async #call (method: 'GET' | 'POST' | 'DELETE', path: string, what: string, opts: { signal?: AbortSignal, accept?: number[] } = {}): Promise<HttpApiAnswer> {
    let answer: HttpApiAnswer
    try {
      answer = await httpApiCall({
        method,
        url: `${this.url}${path}`,
        headers: this.#authorization != null ? { authorization: this.#authorization } : {},
        timeoutMs: this.timeoutMs,
        signal: opts.signal,
        // A cluster pin sets a state (the same CID again updates it): safe to repeat.
        idempotent: true
      })
    } catch (err) {
      if (err instanceof HttpUnreachable) throw new ClusterUnreachableError(this.url, err.timedOut ? `${err.detail} (${what})` : err.detail, { cause: err })
      throw err
    }
    if (answer.status >= 400 && !(opts.accept ?? []).includes(answer.status)) {
      throw new ClusterApiError(what, answer.status, errorMessageOf(answer.text))
    }
    return answer
  }

  #json (answer: HttpApiAnswer, what: string): unknown {
    try {
      return JSON.parse(answer.text)
    } catch {
      throw new ClusterApiError(what, answer.status, 'the answer is not JSON')
    }
  }

  #ndjson (answer: HttpApiAnswer, what: string): unknown[] {
    if (answer.status === 204) return []
    try {
      return parseNdjson(answer.text)
    } catch {
      throw new ClusterApiError(what, answer.status, 'the answer is not JSON lines')
    }
  }

  /** GET /id: the peer we talk to. */
  async id (signal?: AbortSignal): Promise<ClusterPeerView> {
    return toPeerView(this.#json(await this.#call('GET', '/id', 'GET /id', { signal }), 'GET /id'))
  }

  /** GET /peers: every peer of the cluster as the one we talk to sees it. */
  async peers (signal?: AbortSignal): Promise<ClusterPeerView[]> {
    return this.#ndjson(await this.#call('GET', '/peers', 'GET /peers', { signal }), 'GET /peers').map(toPeerView)
  }

  /** GET /monitor/metrics/freespace: the last free-space metric of each peer, bytes by peer id. */
  async freeSpace (signal?: AbortSignal): Promise<Map<string, number>> {
    const answer = await this.#call('GET', '/monitor/metrics/freespace', 'GET /monitor/metrics/freespace', { signal })
    const raw = answer.status === 204 ? [] : this.#json(answer, 'GET /monitor/metrics/freespace')
    const out = new Map<string, number>()
    for (const m of Array.isArray(raw) ? raw : []) {
      const r = m as { peer?: unknown, value?: unknown, valid?: unknown }
      const n = Number(r.value)
      if (typeof r.peer === 'string' && r.valid !== false && Number.isFinite(n)) out.set(r.peer, n)
    }
    return out
  }

  /**
   * GET /monitor/metrics/tag:gateway: each peer's own gateway, as the peer
   * announces it with IPFS Cluster's tags informer (service.json
   * `informer.tags.tags.gateway = "https://…"`). The fleet as sources of a
   * pull: untrusted like every gateway (each block is verified), and a value
   * that is not an http(s) URL without credentials is left out.
   */
  async gateways (signal?: AbortSignal): Promise<Array<{ peer: string, url: string }>> {
    const what = `GET /monitor/metrics/tag:${GATEWAY_TAG}`
    const answer = await this.#call('GET', `/monitor/metrics/tag:${GATEWAY_TAG}`, what, { signal })
    const raw = answer.status === 204 ? [] : this.#json(answer, what)
    const out: Array<{ peer: string, url: string }> = []
    for (const m of Array.isArray(raw) ? raw : []) {
      const r = m as { peer?: unknown, value?: unknown, valid?: unknown }
      if (typeof r.peer !== 'string' || r.valid === false || typeof r.value !== 'string') continue
      try {
        out.push({ peer: r.peer, url: normalizeGatewayUrl(r.value) })
      } catch { /* not a gateway URL we would ask: left out */ }
    }
    return out
  }

  /**
   * POST /pins/{cid}: asks the cluster to pin. replication factors of 0 leave
   * the cluster's defaults; -1 means every peer.
   */
  async pin (cid: string, opts: { name?: string, replicationMin?: number, replicationMax?: number, signal?: AbortSignal } = {}): Promise<{ cid: string, allocations: string[], replicationMin: number, replicationMax: number }> {
    parseCid(cid)
    const q = new URLSearchParams()
    if (opts.name != null) q.set('name', opts.name)
    if (opts.replicationMin != null && opts.replicationMin !== 0) q.set('replication-min', String(opts.replicationMin))
    if (opts.replicationMax != null && opts.replicationMax !== 0) q.set('replication-max', String(opts.replicationMax))
    const path = `/pins/${encodeURIComponent(cid)}${q.size > 0 ? `?${q.toString()}` : ''}`
    const r = this.#json(await this.#call('POST', path, `pinning ${cid}`, { signal: opts.signal }), `POST /pins/${cid}`) as { cid?: unknown, allocations?: unknown, replication_factor_min?: unknown, replication_factor_max?: unknown }
    return {
      cid: typeof r.cid === 'string' ? r.cid : cid,
      allocations: Array.isArray(r.allocations) ? r.allocations.filter((a): a is string => typeof a === 'string') : [],
      replicationMin: typeof r.replication_factor_min === 'number' ? r.replication_factor_min : 0,
      replicationMax: typeof r.replication_factor_max === 'number' ? r.replication_factor_max : 0
    }
  }

  /** DELETE /pins/{cid}; false when the cluster had no such pin. */
  async unpin (cid: string, signal?: AbortSignal): Promise<boolean> {
    parseCid(cid)
    const answer = await this.#call('DELETE', `/pins/${encodeURIComponent(cid)}`, `unpinning ${cid}`, { signal, accept: [404] })
    return answer.status !== 404
  }

  /** GET /pins/{cid}: the pin's state on every peer (global). */
  async status (cid: string, signal?: AbortSignal): Promise<GlobalPinInfo> {
    parseCid(cid)
    return toGlobalPinInfo(this.#json(await this.#call('GET', `/pins/${encodeURIComponent(cid)}`, `the status of ${cid}`, { signal }), `GET /pins/${cid}`))
  }

  /** GET /allocations/{cid}: the pin as the pinset holds it (allocations, factors), or undefined when not in the pinset. */
  async allocation (cid: string, signal?: AbortSignal): Promise<{ allocations: string[], replicationMin: number, replicationMax: number, name: string } | undefined> {
    parseCid(cid)
    const answer = await this.#call('GET', `/allocations/${encodeURIComponent(cid)}`, `the allocation of ${cid}`, { signal, accept: [404] })
    if (answer.status === 404) return undefined
    const r = this.#json(answer, `GET /allocations/${cid}`) as { allocations?: unknown, replication_factor_min?: unknown, replication_factor_max?: unknown, name?: unknown }
    return {
      allocations: Array.isArray(r.allocations) ? r.allocations.filter((a): a is string => typeof a === 'string') : [],
      replicationMin: typeof r.replication_factor_min === 'number' ? r.replication_factor_min : 0,
      replicationMax: typeof r.replication_factor_max === 'number' ? r.replication_factor_max : 0,
      name: typeof r.name === 'string' ? r.name : ''
    }
  }

  /** GET /pins: every pin of the pinset with its state on every peer. */
  async pins (signal?: AbortSignal): Promise<GlobalPinInfo[]> {
    return this.#ndjson(await this.#call('GET', '/pins', 'GET /pins', { signal }), 'GET /pins').map(toGlobalPinInfo)
  }
}

function errorMessageOf (text: string): string {
  try {
    const j = JSON.parse(text) as { message?: unknown }
    if (typeof j.message === 'string') return j.message
  } catch { /* not JSON: the text itself is the message */ }
  return text.trim().slice(0, 300)
}

function str (v: unknown): string {
  return typeof v === 'string' ? v : ''
}

function toPeerView (raw: unknown): ClusterPeerView {
  const r = (raw ?? {}) as Record<string, unknown>
  const ipfs = (r.ipfs ?? {}) as Record<string, unknown>
  return {
    id: str(r.id),
    peername: str(r.peername),
    version: str(r.version),
    addresses: Array.isArray(r.addresses) ? r.addresses.filter((a): a is string => typeof a === 'string') : [],
    clusterPeers: Array.isArray(r.cluster_peers) ? r.cluster_peers.filter((a): a is string => typeof a === 'string') : [],
    ipfs: {
      id: str(ipfs.id),
      addresses: Array.isArray(ipfs.addresses) ? ipfs.addresses.filter((a): a is string => typeof a === 'string') : [],
      ...(str(ipfs.error) !== '' ? { error: str(ipfs.error) } : {})
    },
    ...(str(r.error) !== '' ? { error: str(r.error) } : {})
  }
}

/** The cluster's tracker statuses folded into the few a person needs (the raw one is kept beside). */
export function stateOf (status: string): PinPeerState {
  switch (status) {
    case 'pinned': return 'pinned'
    case 'pinning': return 'pinning'
    case 'queued': case 'pin_queued': return 'queued'
    case 'remote': return 'remote'
    case 'unpinned': case 'unpinning': case 'unpin_queued': return 'unpinned'
    default: return 'error'
  }
}

function toGlobalPinInfo (raw: unknown): GlobalPinInfo {
  const r = (raw ?? {}) as Record<string, unknown>
  const map = (r.peer_map ?? {}) as Record<string, Record<string, unknown>>
  const peers: PeerPinStatus[] = Object.entries(map).map(([peer, p]) => {
    const status = (KNOWN_STATUSES.includes(str(p.status)) ? str(p.status) : 'undefined') as TrackerStatus
    return {
      peer,
      peername: str(p.peername),
      ipfsPeerId: str(p.ipfs_peer_id),
      status,
      state: stateOf(status),
      timestamp: str(p.timestamp),
      ...(str(p.error) !== '' ? { error: str(p.error) } : {})
    }
  }).sort((a, b) => a.peername.localeCompare(b.peername) || a.peer.localeCompare(b.peer))
  return {
    cid: str(r.cid),
    name: str(r.name),
    allocations: Array.isArray(r.allocations) ? r.allocations.filter((a): a is string => typeof a === 'string') : [],
    peers
  }
}
