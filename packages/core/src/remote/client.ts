/**
 * A client of the IPFS Pinning Service API (https://ipfs.github.io/pinning-services-api-spec/,
 * v1): `POST /pins` (a pin request: cid, name, origins), `GET /pins` (a
 * filtered list), `GET /pins/{requestid}`, `DELETE /pins/{requestid}`, with
 * the access token as `Authorization: Bearer`. The token is read from its
 * 0600 file when the client is made and kept only in this object. Every call
 * has the service's timeout and the core retry policy (a POST, which creates
 * a request each time, is sent once).
 */
import { PinServiceError, PinServiceUnknownError } from '../errors.ts'
import { readSecretFile, remoteSecretFile, type RemoteSecret, type RemoteServiceConfig } from '../config/fleet.ts'
import { httpApiCall, HttpUnreachable, type HttpApiAnswer } from '../net/http-api.ts'
import { parseCid } from '../ipld/cid.ts'
import type { RemotePinStatus, RemotePinView } from '@citrate-ipfs/contract'

export const REMOTE_PIN_STATUS_LIST: readonly RemotePinStatus[] = ['queued', 'pinning', 'pinned', 'failed']

export interface PinningServiceClientOptions {
  name: string
  endpoint: string
  token?: string
  /** One call's timeout (retries included), ms. */
  timeoutMs?: number
}

/** The client of a configured service, by name. */
export async function pinningServiceFromConfig (remotes: Record<string, RemoteServiceConfig> | undefined, name: string, home: string): Promise<PinningServiceClient> {
  const cfg = remotes?.[name]
  if (cfg == null) throw new PinServiceUnknownError(name, Object.keys(remotes ?? {}))
  const secret = await readSecretFile<RemoteSecret>(remoteSecretFile(home, name))
  return new PinningServiceClient({ name, endpoint: cfg.endpoint, token: secret?.token, timeoutMs: cfg.timeout_seconds * 1000 })
}

export interface ListPinsQuery {
  cid?: string[]
  name?: string
  /** Default: every status (the spec's default is pinned only). */
  status?: RemotePinStatus[]
  limit?: number
}

export class PinningServiceClient {
  readonly name: string
  readonly endpoint: string
  readonly #token: string | undefined
  readonly timeoutMs: number

  constructor (opts: PinningServiceClientOptions) {
    this.name = opts.name
    this.endpoint = opts.endpoint.replace(/\/+$/, '')
    this.#token = opts.token
    this.timeoutMs = opts.timeoutMs ?? 30_000
  }

  async #call (method: 'GET' | 'POST' | 'DELETE', path: string, what: string, opts: { json?: unknown, signal?: AbortSignal, ok: number[] }): Promise<HttpApiAnswer> {
    let answer: HttpApiAnswer
    try {
      answer = await httpApiCall({
        method,
        url: `${this.endpoint}${path}`,
        headers: this.#token != null ? { authorization: `Bearer ${this.#token}` } : {},
        json: opts.json,
        timeoutMs: this.timeoutMs,
        signal: opts.signal
      })
    } catch (err) {
      if (err instanceof HttpUnreachable) throw new PinServiceError(this.name, `${this.endpoint} did not answer ${what}: ${err.detail}`, undefined, { cause: err })
      throw err
    }
    if (!opts.ok.includes(answer.status)) {
      throw new PinServiceError(this.name, `${what} was refused: HTTP ${answer.status}${reasonOf(answer.text)}`, answer.status)
    }
    return answer
  }

  #pinStatus (answer: HttpApiAnswer, what: string): RemotePinView {
    let raw: unknown
    try {
      raw = JSON.parse(answer.text)
    } catch {
      throw new PinServiceError(this.name, `${what}: the answer is not JSON`, answer.status)
    }
    return toPinView(this.name, raw, what)
  }

  /** POST /pins: a new pin request. `origins`: multiaddrs the service may fetch the content from (ours). */
  async add (cid: string, opts: { name?: string, origins?: string[], signal?: AbortSignal } = {}): Promise<RemotePinView> {
    parseCid(cid)
    const body: Record<string, unknown> = { cid }
    if (opts.name != null) body.name = opts.name
    if (opts.origins != null && opts.origins.length > 0) body.origins = opts.origins
    // 202 is the spec's answer; some services (IPFS Cluster 1.1.0) send 200.
    return this.#pinStatus(await this.#call('POST', '/pins', `the pin request for ${cid}`, { json: body, signal: opts.signal, ok: [200, 201, 202] }), `POST /pins (${cid})`)
  }

  /** GET /pins/{requestid}. */
  async get (requestid: string, signal?: AbortSignal): Promise<RemotePinView> {
    return this.#pinStatus(await this.#call('GET', `/pins/${encodeURIComponent(requestid)}`, `the status of request ${requestid}`, { signal, ok: [200] }), `GET /pins/${requestid}`)
  }

  /**
   * GET /pins, every status unless told otherwise. The spec pages results
   * (default 10, at most 1000 a page, newest first): pages are followed with
   * `before` = the oldest `created` seen, until `count` are read or `limit`.
   */
  async list (q: ListPinsQuery = {}, signal?: AbortSignal): Promise<{ count: number, results: RemotePinView[] }> {
    const results: RemotePinView[] = []
    const seen = new Set<string>()
    let count = 0
    let before: string | undefined
    for (;;) {
      const params = new URLSearchParams()
      if (q.cid != null && q.cid.length > 0) params.set('cid', q.cid.join(','))
      if (q.name != null) params.set('name', q.name)
      params.set('status', (q.status ?? REMOTE_PIN_STATUS_LIST).join(','))
      params.set('limit', String(Math.min(1000, q.limit ?? 1000)))
      if (before != null) params.set('before', before)
      const answer = await this.#call('GET', `/pins?${params.toString()}`, 'the list of pins', { signal, ok: [200] })
      let raw: { count?: unknown, results?: unknown }
      try {
        raw = JSON.parse(answer.text) as typeof raw
      } catch {
        throw new PinServiceError(this.name, 'GET /pins: the answer is not JSON', answer.status)
      }
      if (!Array.isArray(raw.results)) throw new PinServiceError(this.name, 'GET /pins: the answer has no results list', answer.status)
      const page = raw.results.map(r => toPinView(this.name, r, 'GET /pins'))
      if (before == null) count = typeof raw.count === 'number' ? raw.count : page.length
      let added = 0
      for (const p of page) if (!seen.has(p.requestid)) { seen.add(p.requestid); results.push(p); added++ }
      const oldest = page.map(p => p.created).filter(c => c !== '').sort()[0]
      // Done: everything counted is here, the caller's limit is reached, or a page brought nothing new (or no dates to page by).
      if (results.length >= count || (q.limit != null && results.length >= q.limit) || added === 0 || oldest == null || oldest === before) break
      before = oldest
    }
    return { count, results: q.limit != null ? results.slice(0, q.limit) : results }
  }

  /** DELETE /pins/{requestid}; false when the service had no such request (404). */
  async remove (requestid: string, signal?: AbortSignal): Promise<boolean> {
    const answer = await this.#call('DELETE', `/pins/${encodeURIComponent(requestid)}`, `removing request ${requestid}`, { signal, ok: [200, 202, 204, 404] })
    return answer.status !== 404
  }
}

/** The spec's Failure body: `{"error":{"reason":…,"details":…}}`. */
function reasonOf (text: string): string {
  try {
    const j = JSON.parse(text) as { error?: { reason?: unknown, details?: unknown } }
    const reason = typeof j.error?.reason === 'string' ? j.error.reason : ''
    const details = typeof j.error?.details === 'string' ? j.error.details : ''
    if (reason !== '' || details !== '') return ` (${[reason, details].filter(x => x !== '').join(': ')})`
  } catch { /* not JSON: the text itself is the message */ }
  const t = text.trim().slice(0, 200)
  return t !== '' ? ` (${t})` : ''
}

function toPinView (service: string, raw: unknown, what: string): RemotePinView {
  const r = (raw ?? {}) as Record<string, unknown>
  const pin = (r.pin ?? {}) as Record<string, unknown>
  const status = r.status
  if (typeof r.requestid !== 'string' || r.requestid === '' || !REMOTE_PIN_STATUS_LIST.includes(status as RemotePinStatus) || typeof pin.cid !== 'string') {
    throw new PinServiceError(service, `${what}: the answer is not a PinStatus (requestid, status, pin.cid)`)
  }
  const info: Record<string, string> = {}
  if (r.info != null && typeof r.info === 'object') for (const [k, v] of Object.entries(r.info)) if (typeof v === 'string') info[k] = v
  return {
    service,
    requestid: r.requestid,
    status: status as RemotePinStatus,
    created: typeof r.created === 'string' ? r.created : '',
    cid: pin.cid,
    ...(typeof pin.name === 'string' && pin.name !== '' ? { name: pin.name } : {}),
    delegates: Array.isArray(r.delegates) ? r.delegates.filter((d): d is string => typeof d === 'string') : [],
    ...(Object.keys(info).length > 0 ? { info } : {})
  }
}
