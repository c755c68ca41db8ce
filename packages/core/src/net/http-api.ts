/**
 * One request to a small HTTP API of someone else's (an IPFS Cluster's REST
 * API, a pinning service), under the one retry policy: transient failures
 * (classify.ts) are tried again with the usual backoff, and the whole call,
 * retries included, is bounded by one timeout, so a server that never answers
 * costs at most `timeoutMs` and never hangs the caller.
 *
 * Answers of any status are returned (the caller knows what a 404 means to
 * it); only a transient status is retried first, and only for requests safe
 * to repeat. Failures to get an answer throw `HttpUnreachable` (a timeout,
 * a refused connection), or `AbortedError` when the caller's signal fired.
 */
import { AbortedError } from '../errors.ts'
import { withTimeout } from '../util/signals.ts'
import { classifyError, classifyStatus } from './classify.ts'
import { withRetries } from './retry.ts'
import type { BackoffOptions } from './backoff.ts'

export interface HttpApiRequest {
  method: 'GET' | 'POST' | 'DELETE'
  url: string
  headers?: Record<string, string>
  /** A JSON body (sent with content-type application/json). */
  json?: unknown
  /** The whole call, retries included, ms. */
  timeoutMs: number
  signal?: AbortSignal
  /** Safe to send again (GET, DELETE, and POSTs that set a state rather than add one). Default: true except POST. */
  idempotent?: boolean
  /** Tries in all (default 4). */
  attempts?: number
  backoff?: BackoffOptions
}

export interface HttpApiAnswer {
  status: number
  headers: Headers
  text: string
}

/** No answer came: the message says why (refused, reset, timed out after N ms). */
export class HttpUnreachable extends Error {
  readonly detail: string
  readonly timedOut: boolean
  constructor (detail: string, timedOut: boolean, options?: ErrorOptions) {
    super(detail, options)
    this.name = 'HttpUnreachable'
    this.detail = detail
    this.timedOut = timedOut
  }
}

class TransientStatus extends Error {
  readonly answer: HttpApiAnswer
  constructor (answer: HttpApiAnswer) {
    super(`HTTP ${answer.status}`)
    this.answer = answer
  }
}

export async function httpApiCall (req: HttpApiRequest): Promise<HttpApiAnswer> {
  const deadline = withTimeout(req.timeoutMs, req.signal)
  const idempotent = req.idempotent ?? req.method !== 'POST'
  const headers: Record<string, string> = { accept: 'application/json', ...(req.headers ?? {}) }
  const body = req.json !== undefined ? JSON.stringify(req.json) : undefined
  if (body !== undefined) headers['content-type'] = 'application/json'
  const once = async (): Promise<HttpApiAnswer> => {
    const res = await fetch(req.url, { method: req.method, headers, body, signal: deadline, redirect: 'error' })
    const answer = { status: res.status, headers: res.headers, text: await res.text() }
    if (idempotent && res.status >= 400 && classifyStatus(res.status) === 'transient') throw new TransientStatus(answer)
    return answer
  }
  try {
    return await withRetries(once, {
      attempts: idempotent ? (req.attempts ?? 4) : 1,
      backoff: req.backoff,
      signal: deadline,
      retryable: (err) => err instanceof TransientStatus || classifyError(err).class === 'transient'
    })
  } catch (err) {
    if (err instanceof TransientStatus) return err.answer
    if (req.signal?.aborted === true) throw new AbortedError(`${req.method} ${req.url}`)
    if (deadline.aborted) throw new HttpUnreachable(`no answer within ${req.timeoutMs} ms`, true, { cause: err })
    throw new HttpUnreachable(classifyError(err).detail, false, { cause: err })
  }
}

/** The lines of an NDJSON body (IPFS Cluster 1.x streams its lists), each parsed; an empty body (204) is no items. */
export function parseNdjson (text: string): unknown[] {
  const out: unknown[] = []
  for (const line of text.split('\n')) {
    const l = line.trim()
    if (l === '') continue
    out.push(JSON.parse(l))
  }
  return out
}
