/**
 * A small typed client for kubo's RPC API.
 *
 * Hand-written rather than kubo-rpc-client because we need, on every call, an
 * AbortSignal plus a hard timeout (kubo-rpc-client 7 ignores its `timeout`),
 * streamed NDJSON for progress endpoints it lacks (pin/add?progress, dag/stat),
 * and kubo's error message kept intact for our typed errors.
 */
import { KuboRpcError } from '../errors.ts'
import { abortReason, withTimeout } from '../util/signals.ts'

export interface RpcCallOptions {
  signal?: AbortSignal
  /** Per-call time limit; default 10 s. */
  timeoutMs?: number
  body?: RequestInit['body']
  headers?: Record<string, string>
}

export type RpcParams = Record<string, string | number | boolean | undefined | string[]>

export interface KuboRpcOptions {
  /**
   * The secret of kubo's `API.Authorizations` (ours: daemon/rpc-secret.ts),
   * sent as `Authorization: Bearer <secret>` on every call. A kubo without
   * Authorizations ignores the header.
   */
  secret?: string
}

export class KuboRpc {
  readonly baseUrl: string
  // A private field: never part of JSON.stringify, util.inspect or an error message.
  readonly #authorization: string | undefined

  /** @param baseUrl e.g. `http://127.0.0.1:5001` */
  constructor (baseUrl: string, opts: KuboRpcOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '')
    this.#authorization = opts.secret != null && opts.secret !== '' ? `Bearer ${opts.secret}` : undefined
  }

  /** Whether calls carry an RPC secret. */
  get authenticated (): boolean { return this.#authorization != null }

  url (command: string, params: RpcParams = {}): string {
    const u = new URL(`${this.baseUrl}/api/v0/${command}`)
    for (const [k, v] of Object.entries(params)) {
      if (v === undefined) continue
      if (Array.isArray(v)) for (const item of v) u.searchParams.append(k, item)
      else u.searchParams.set(k, String(v))
    }
    return u.toString()
  }

  /** POSTs a command and returns the response once its headers arrive. */
  async request (command: string, params: RpcParams = {}, opts: RpcCallOptions = {}): Promise<Response> {
    const timeoutMs = opts.timeoutMs ?? 10_000
    const signal = withTimeout(timeoutMs, opts.signal)
    let res: Response
    try {
      const headers = this.#authorization != null ? { ...opts.headers, authorization: this.#authorization } : opts.headers
      res = await fetch(this.url(command, params), { method: 'POST', signal, body: opts.body, headers, ...(opts.body != null && typeof opts.body !== 'string' ? { duplex: 'half' } : {}) } as RequestInit)
    } catch (err) {
      throw abortReason(err, `kubo RPC ${command}`, timeoutMs, opts.signal) ??
        new KuboRpcError(`kubo RPC ${command} at ${this.baseUrl} failed: ${describeFetchError(err)}`, undefined, { cause: err })
    }
    if (!res.ok) {
      const text = await res.text().catch(() => '')
      let message = text.trim()
      try {
        const j = JSON.parse(text) as { Message?: string }
        if (typeof j.Message === 'string') message = j.Message
      } catch { /* not kubo's JSON error shape: keep the text */ }
      throw new KuboRpcError(`kubo RPC ${command}: ${message !== '' ? message : `HTTP ${res.status}`}`, res.status)
    }
    return res
  }

  /** A command with a single JSON answer. */
  async json<T> (command: string, params: RpcParams = {}, opts: RpcCallOptions = {}): Promise<T> {
    const res = await this.request(command, params, opts)
    const text = await res.text()
    if (text.trim() === '') return undefined as T
    try {
      return JSON.parse(text) as T
    } catch (err) {
      throw new KuboRpcError(`kubo RPC ${command} answered with something that is not JSON (is this kubo?)`, res.status, { cause: err })
    }
  }

  /**
   * A command answering newline-delimited JSON (progress streams). An error
   * sent mid-stream (kubo's X-Stream-Error trailer, or an `{Type:"error"}` line)
   * becomes a KuboRpcError.
   */
  async * ndjson<T> (command: string, params: RpcParams = {}, opts: RpcCallOptions = {}): AsyncGenerator<T> {
    const res = await this.request(command, params, opts)
    if (res.body == null) return
    const decoder = new TextDecoder()
    let buffered = ''
    for await (const chunk of res.body) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true })
      let nl: number
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim()
        buffered = buffered.slice(nl + 1)
        if (line !== '') yield parseLine<T>(command, line)
      }
    }
    if (buffered.trim() !== '') yield parseLine<T>(command, buffered.trim())
    const trailerError = res.headers.get('x-stream-error')
    if (trailerError != null && trailerError !== '') throw new KuboRpcError(`kubo RPC ${command}: ${trailerError}`)
  }
}

function parseLine<T> (command: string, line: string): T {
  let obj: unknown
  try {
    obj = JSON.parse(line)
  } catch (err) {
    throw new KuboRpcError(`kubo RPC ${command} sent a line that is not JSON`, undefined, { cause: err })
  }
  const o = obj as { Type?: string, Message?: string }
  if (o?.Type === 'error') throw new KuboRpcError(`kubo RPC ${command}: ${o.Message ?? 'error'}`)
  return obj as T
}

export function describeFetchError (err: unknown): string {
  const cause = (err as { cause?: { code?: string, message?: string } })?.cause
  if (cause?.code === 'ECONNREFUSED') return 'connection refused (is the daemon running?)'
  if (cause?.code === 'ECONNRESET' || cause?.code === 'UND_ERR_SOCKET') return 'connection reset'
  return cause?.message ?? (err as Error)?.message ?? String(err)
}

/** Converts a multiaddr such as `/ip4/127.0.0.1/tcp/5001` into `http://127.0.0.1:5001`. */
export function multiaddrToHttpUrl (ma: string): string | undefined {
  const m = /^\/(ip4|ip6|dns|dns4|dns6)\/([^/]+)\/tcp\/(\d+)/.exec(ma.trim())
  if (m == null) return undefined
  const host = m[1] === 'ip6' ? `[${m[2]}]` : m[2]
  return `http://${host}:${m[3]}`
}
