/**
 * THE one place that decides what is worth another try. Every network call in
 * core (gateway blocks and CARs, byte ranges, the kubo installer) classifies
 * its failures here, and `test/retry-policy.spec.ts` lists the table.
 *
 * `transient`: the same request to the same place may well succeed in a
 * moment (a busy or restarting server, a dropped connection, a stall). The
 * caller backs off and asks again; a source is dropped only when this keeps
 * happening (see health.ts).
 * `permanent`: asking again gets the same answer (the source lacks the
 * content, refuses this kind of request, or sent bytes that are wrong). The
 * caller stops asking this source for this pull.
 *
 * The rule for anything unlisted: an unknown *network* error is transient (a
 * retry costs a short cooldown; wrongly dropping the only source costs the
 * pull, and health.ts still drops a source that keeps failing), an unknown
 * *status* or *answer* is permanent (the server said something definite).
 */
import { CitrateError } from '../errors.ts'

export type FailureClass = 'transient' | 'permanent'

/** HTTP statuses worth another try: they describe a passing state of the server, not the request. */
const TRANSIENT_STATUSES = new Set([
  408, // Request Timeout: the server gave up waiting for us
  425, // Too Early
  429, // Too Many Requests: rate limited, back off
  500, // Internal Server Error
  502, // Bad Gateway: the gateway's upstream failed
  503, // Service Unavailable: overloaded or restarting
  504 // Gateway Timeout: the gateway's upstream was slow
])

/**
 * 5xx statuses that are NOT worth another try: they describe this request or
 * this server's setup, which a retry sends unchanged to the same setup.
 */
const PERMANENT_5XX = new Set([
  501, // Not Implemented: this gateway does not do this kind of request
  505, // HTTP Version Not Supported
  506, // Variant Also Negotiates: a server configuration error
  508, // Loop Detected
  510, // Not Extended
  511 // Network Authentication Required: a captive portal; a person has to act
])

/**
 * Classifies an HTTP status a request failed with. 408/425/429 and the 5xx not
 * listed in PERMANENT_5XX (500, 502, 503, 504, 507, and the CDNs' 52x) are
 * transient; every other 4xx (404 and 410 included: the source does not have
 * it) is permanent. A status below 400 reaching here is an answer we did not
 * ask for (a redirect we do not follow, a 200 of the wrong shape): permanent.
 */
export function classifyStatus (status: number): FailureClass {
  if (TRANSIENT_STATUSES.has(status)) return 'transient'
  if (status >= 500 && status <= 599) return PERMANENT_5XX.has(status) ? 'permanent' : 'transient'
  return 'permanent'
}

/** The longest rest a `Retry-After` may give a source: past it, a gateway's answer is treated as 5 min. */
export const MAX_RETRY_AFTER_MS = 5 * 60_000

/**
 * The rest a `429` or `503` asks for with `Retry-After` (RFC 9110 §10.2.3:
 * delay-seconds, or an HTTP date), in ms, at most MAX_RETRY_AFTER_MS; a date
 * in the past is 0. Undefined for other statuses, no header, or one that does
 * not parse: the usual backoff then applies. health.ts rests the source for
 * max(backoff, this) and does not count the failure toward dropping it (the
 * server is alive and said when to come back).
 */
export function retryAfterMs (status: number, header: string | null | undefined, now = Date.now()): number | undefined {
  if (status !== 429 && status !== 503) return undefined
  const value = header?.trim() ?? ''
  if (value === '') return undefined
  let ms: number
  if (/^\d+$/.test(value)) {
    ms = Number(value) * 1000
  } else {
    const at = Date.parse(value)
    if (!Number.isFinite(at) || !/[a-z]/i.test(value)) return undefined
    ms = at - now
  }
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.round(ms)))
}

/** Socket, DNS and undici error codes that pass: the connection, not the content, failed. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ENETRESET',
  'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EHOSTDOWN', 'EADDRNOTAVAIL', 'ENOTCONN',
  'EAI_AGAIN', // DNS: temporary failure in name resolution
  'EMFILE', 'ENFILE', 'ENOBUFS', // our own machine is short of descriptors or buffers, for a moment
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', // a body cut short
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_TLS_HANDSHAKE_TIMEOUT'
])

/**
 * Codes that do not pass. ENOTFOUND: the resolver says the name does not
 * exist (EAI_AGAIN is its "try later"), so a gateway URL with a typo fails
 * fast instead of after a round of cooldowns. Certificate errors: a
 * certificate does not become valid during a pull, and retrying past one is
 * how people learn to ignore them. Speaking TLS to a plain port, an invalid
 * URL or an unsupported protocol are our request's shape.
 */
const PERMANENT_CODES = new Set([
  'ENOTFOUND',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH', 'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_INVALID_URL', 'ERR_UNSUPPORTED_PROTOCOL', 'UND_ERR_NOT_SUPPORTED', 'UND_ERR_INVALID_ARG'
])

/** OpenSSL's verification codes (CERT_HAS_EXPIRED, SELF_SIGNED_CERT_IN_CHAIN, UNABLE_TO_VERIFY_LEAF_SIGNATURE, …). */
const CERTIFICATE_CODE = /CERT|UNABLE_TO_(GET|VERIFY|DECRYPT)_/

/**
 * Codes of a connection that was there and went away under a request (reset,
 * broken pipe, closed): a flaky link or server, not a sign of asking too
 * much, so the source's window is not cut for it (source-pool.ts).
 */
const CONNECTION_LOSS_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ENETRESET', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'])

export function isConnectionLoss (code: string): boolean {
  return CONNECTION_LOSS_CODES.has(code)
}

/** Classifies a socket/DNS/TLS/undici error code; unknown codes are transient (see the module note). */
export function classifyErrorCode (code: string): FailureClass {
  if (TRANSIENT_CODES.has(code)) return 'transient'
  if (PERMANENT_CODES.has(code) || CERTIFICATE_CODE.test(code)) return 'permanent'
  return 'transient'
}

/**
 * Conditions our own code detects, by name:
 * - `stalled`: no bytes for the watchdog's time (watchdog.ts); transient.
 * - `timeout`: no answer within a time limit; transient.
 * - `cut-short`: the connection closed before the answer was whole; transient.
 * - `bad-data`: bytes that do not hash to their CID, a malformed CAR, more
 *   bytes than asked for, a block over the size limit; permanent (the source
 *   is lying or broken, and it would send the same again).
 * - `not-trustless`: an answer of the wrong content type (an HTML interstitial,
 *   a deserialized file where a block was asked for); permanent.
 */
export type Condition = 'stalled' | 'timeout' | 'cut-short' | 'bad-data' | 'not-trustless'

const CONDITIONS: Record<Condition, FailureClass> = {
  stalled: 'transient',
  timeout: 'transient',
  'cut-short': 'transient',
  'bad-data': 'permanent',
  'not-trustless': 'permanent'
}

export function classifyCondition (condition: Condition): FailureClass {
  return CONDITIONS[condition]
}

export interface ClassifiedError {
  class: FailureClass
  /** The code or message that decided it, for error messages and logs (e.g. `ECONNRESET`). */
  detail: string
}

/**
 * Classifies an error thrown by a network call (fetch/undici's `TypeError:
 * fetch failed` with its `cause`, node:net and node:tls errors,
 * AggregateErrors of a happy-eyeballs connect, timeouts). Aborts by the
 * caller's own signal are not failures: check the signal before calling this.
 */
export function classifyError (err: unknown): ClassifiedError {
  if (err instanceof CitrateError) {
    // Our own errors carry a code of another vocabulary: a bad block is bad data, a timeout passes.
    if (err.code === 'BLOCK_MISMATCH') return { class: 'permanent', detail: err.message }
    if (err.code === 'TIMEOUT') return { class: 'transient', detail: err.message }
  }
  const code = err instanceof CitrateError ? errorCode(err.cause) : errorCode(err)
  if (code != null) return { class: classifyErrorCode(code), detail: code }
  // No code at all: a timeout (`TimeoutError`), an undici message, something new; see the module note.
  const message = messageOf(err)
  // fetch() refuses the ports of its "bad ports" list (e.g. 9, 25, 6000) before dialling: asking again never helps.
  if (message === 'bad port') return { class: 'permanent', detail: 'bad port: fetch() refuses to connect to this port' }
  return { class: 'transient', detail: message }
}

/** The first `code` string on the error or down its `cause`/`errors` chain (undici nests the socket's error). */
export function errorCode (err: unknown, depth = 0): string | undefined {
  if (err == null || typeof err !== 'object' || depth > 5) return undefined
  const e = err as { code?: unknown, cause?: unknown, errors?: unknown }
  if (typeof e.code === 'string' && e.code !== '') return e.code
  const fromCause = errorCode(e.cause, depth + 1)
  if (fromCause != null) return fromCause
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const c = errorCode(inner, depth + 1)
      if (c != null) return c
    }
  }
  return undefined
}

function messageOf (err: unknown): string {
  const e = err as { message?: unknown, cause?: { message?: unknown } } | undefined
  const inner = e?.cause?.message
  if (typeof inner === 'string' && inner !== '') return inner
  return typeof e?.message === 'string' ? e.message : String(err)
}
