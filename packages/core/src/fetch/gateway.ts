/**
 * A trustless HTTP gateway (kubo's own, or any public one) as a verified block
 * source. Gateways are untrusted: we only ask for trustless responses
 * (`application/vnd.ipld.raw` blocks and `application/vnd.ipld.car` streams),
 * cap every block at 2 MiB, and verify every block against its CID before
 * anyone sees it. A source that stops sending bytes for `stallMs` is treated as
 * failed (stalled), so its work can move to another source. What counts as
 * transient or permanent is net/classify.ts's call, not this file's.
 */
import { CID } from 'multiformats/cid'
import { AbortedError, BlockVerificationError, CitrateError, SourceNotAnsweringError, UnsupportedContentError } from '../errors.ts'
import { readCarBlocks } from './car.ts'
import { classifyCondition, classifyError, classifyStatus, isConnectionLoss, retryAfterMs } from '../net/classify.ts'
import type { HealthPolicy } from '../net/health.ts'
import type { DownloadLimiter } from '../net/rate-limit.ts'
import { stallGuard, type StallGuard, type StallWatchdog } from '../net/watchdog.ts'
import { sourceFailure, type BlockRequestOptions, type CertificateAuthorities, type BlockSource, type CarRequestOptions, type VerifiedBlock } from './source.ts'
import { MAX_BLOCK_BYTES, verifyBlock } from '../ipld/verify-block.ts'

export interface GatewaySourceOptions {
  name?: string
  kind?: 'daemon' | 'gateway'
  /** No response headers or no body bytes for this long = stalled. Default 20 s. */
  stallMs?: number
  /**
   * Also read file bytes as plain byte ranges (each leaf then proved against
   * its CID). Default true; a gateway that does not answer them exactly (a
   * trustless-only one, a redirect to a subdomain gateway) is then spoken to
   * with trustless CAR requests for the rest of the pull.
   */
  byteRanges?: boolean
  /**
   * No connection or no response headers for this long = not answering: the
   * source is set aside within seconds instead of after the stall timeout.
   * Default 4 s for gateways; none (the stall timeout alone) for the daemon,
   * whose first byte may wait on a DHT search.
   */
  firstByteMs?: number
  /** Requests in flight at most; default by kind (source-pool.ts): 16 for the daemon, 8 for a gateway. */
  maxInFlight?: number
  /** For https byte-range reads: certificate authorities to trust instead of Node's defaults. */
  ca?: CertificateAuthorities
  /** Cooldowns and when transient failures drop this source (net/health.ts); its defaults otherwise. */
  retry?: HealthPolicy
}

/**
 * True when an HTTP(S)_PROXY variable names a proxy for this (non-loopback)
 * URL. The byte-range client connects directly, so behind a proxy it would
 * only time out; such sources get the trustless requests alone by default.
 */
export function behindProxy (url: string, env: NodeJS.ProcessEnv = process.env): boolean {
  let u: URL
  try { u = new URL(url) } catch { return false }
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1')
  if (host === 'localhost' || host === '::1' || /^127\./.test(host)) return false
  const proxy = u.protocol === 'https:' ? (env.HTTPS_PROXY ?? env.https_proxy) : (env.HTTP_PROXY ?? env.http_proxy)
  if (proxy == null || proxy === '') return false
  const noProxy = (env.NO_PROXY ?? env.no_proxy ?? '').split(',').map(x => x.trim().toLowerCase()).filter(x => x !== '')
  return !noProxy.some(n => n === '*' || host === n.replace(/^\./, '') || host.endsWith(n.startsWith('.') ? n : `.${n}`))
}

/** A gateway that sends no response headers within 4 s is not answering (a healthy one answers in < 1 s even across an ocean). */
export const DEFAULT_FIRST_BYTE_MS = 4000

export class GatewaySource implements BlockSource {
  readonly name: string
  readonly kind: 'daemon' | 'gateway'
  readonly baseUrl: string
  readonly stallMs: number
  readonly firstByteMs: number | undefined
  readonly maxInFlight: number | undefined
  readonly rangeBaseUrl: string | undefined
  readonly ca: CertificateAuthorities
  readonly retry: HealthPolicy | undefined

  constructor (baseUrl: string, opts: GatewaySourceOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '')
    this.name = opts.name ?? this.baseUrl
    this.kind = opts.kind ?? 'gateway'
    this.stallMs = opts.stallMs ?? 20_000
    this.firstByteMs = opts.firstByteMs ?? (this.kind === 'daemon' ? undefined : DEFAULT_FIRST_BYTE_MS)
    this.maxInFlight = opts.maxInFlight
    this.rangeBaseUrl = (opts.byteRanges ?? !behindProxy(this.baseUrl)) && /^https?:/.test(this.baseUrl) ? this.baseUrl : undefined
    this.ca = opts.ca
    this.retry = opts.retry
  }

  async getBlock (cid: CID, opts: BlockRequestOptions = {}): Promise<Uint8Array> {
    const url = `${this.baseUrl}/ipfs/${cid.toString()}?format=raw`
    const guard = stallGuard(this.stallMs, opts.signal)
    const kick = (): void => { guard.watchdog.kick() }
    try {
      const res = await this.request(url, 'application/vnd.ipld.raw', guard.signal, opts.firstByteMs ?? this.firstByteMs)
      kick()
      const declared = Number(res.headers.get('content-length') ?? NaN)
      if (Number.isFinite(declared) && declared > MAX_BLOCK_BYTES) {
        await res.body?.cancel().catch(() => {})
        throw sourceFailure(`block ${cid.toString()} announced as ${declared} bytes (over the 2 MiB block limit)`, classifyCondition('bad-data'))
      }
      const bytes = await readCapped(res, MAX_BLOCK_BYTES, kick, `block ${cid.toString()}`, guard, opts.limiter)
      try {
        verifyBlock(cid, bytes)
      } catch (err) {
        if (err instanceof BlockVerificationError) throw sourceFailure(err.message, classifyCondition('bad-data'), { cause: err })
        throw err
      }
      return bytes
    } catch (err) {
      throw this.translate(err, guard, opts.signal)
    } finally {
      guard.dispose()
    }
  }

  async * carBlocks (cid: CID, opts: CarRequestOptions = {}): AsyncIterable<VerifiedBlock> {
    const params = new URLSearchParams({ format: 'car', 'dag-scope': 'entity', 'car-version': '1', 'car-order': 'dfs', 'car-dups': 'n' })
    if (opts.entityBytes != null) params.set('entity-bytes', `${opts.entityBytes.from}:${opts.entityBytes.to ?? '*'}`)
    const url = `${this.baseUrl}/ipfs/${cid.toString()}?${params.toString().replace(/%3A/g, ':').replace(/%2A/g, '*')}`
    const guard = stallGuard(this.stallMs, opts.signal)
    const watchdog = guard.watchdog
    try {
      const res = await this.request(url, 'application/vnd.ipld.car', guard.signal, opts.firstByteMs ?? this.firstByteMs)
      watchdog.kick()
      if (res.body == null) throw sourceFailure('empty CAR response', classifyCondition('bad-data'))
      const body = res.body
      const chunks = async function * (): AsyncGenerator<Uint8Array> {
        for await (const chunk of body) {
          watchdog.kick()
          opts.onWireBytes?.(chunk.byteLength)
          await underCap(chunk.byteLength, opts.limiter, watchdog, guard.signal)
          yield chunk
        }
      }
      for await (const block of readCarBlocks(chunks())) {
        try {
          verifyBlock(block.cid, block.bytes)
        } catch (err) {
          if (err instanceof BlockVerificationError) throw sourceFailure(err.message, classifyCondition('bad-data'), { cause: err })
          if (err instanceof UnsupportedContentError) continue // an unrequested block we could not check: ignore it
          throw err
        }
        // The consumer's time with a block (writing it) is ours, not the source's silence.
        watchdog.pause()
        yield block
        watchdog.resume()
      }
    } catch (err) {
      throw this.translate(err, guard, opts.signal)
    } finally {
      // Also ends the response (and its connection) when the consumer stopped early.
      guard.dispose()
    }
  }

  private async request (url: string, accept: string, signal: AbortSignal, firstByteMs: number | undefined): Promise<Response> {
    const noAnswer = new AbortController()
    const timer = firstByteMs !== undefined && firstByteMs < this.stallMs ? setTimeout(() => { noAnswer.abort() }, firstByteMs) : undefined
    let res: Response
    try {
      res = await fetch(url, {
        headers: { accept, 'ngrok-skip-browser-warning': '1', 'user-agent': 'citrate-ipfs' },
        signal: timer === undefined ? signal : AbortSignal.any([signal, noAnswer.signal]),
        redirect: 'follow'
      })
    } catch (err) {
      if (noAnswer.signal.aborted && !signal.aborted) throw new SourceNotAnsweringError(`not answering (no response within ${(firstByteMs ?? 0) / 1000} s)`)
      if ((err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED' && !signal.aborted) throw new SourceNotAnsweringError('not answering (connection refused)', { cause: err })
      throw err
    } finally {
      clearTimeout(timer)
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {})
      const rest = retryAfterMs(res.status, res.headers.get('retry-after'))
      throw sourceFailure(`HTTP ${res.status} ${res.statusText}`.trim() + (rest !== undefined ? ` (Retry-After ${rest / 1000} s)` : ''), classifyStatus(res.status), { retryAfterMs: rest })
    }
    const type = (res.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase()
    if (type !== accept) {
      await res.body?.cancel().catch(() => {})
      throw sourceFailure(`not a trustless response (content-type ${type === '' ? 'missing' : type}, wanted ${accept})`, classifyCondition('not-trustless'))
    }
    return res
  }

  /** Any failure of a request as what the fetcher understands: an abort, or a SourceRequestError classified once. */
  private translate (err: unknown, guard: StallGuard, outer: AbortSignal | undefined): Error {
    if (outer?.aborted === true) return new AbortedError('pull')
    if (guard.stalled) return sourceFailure(guard.watchdog.describe(), classifyCondition('stalled'))
    if (err instanceof CitrateError) return err
    const { class: kind, detail } = classifyError(err)
    return sourceFailure(`request failed (${detail})`, kind, { cause: err, connectionLost: isConnectionLoss(detail) })
  }
}

/**
 * Counts a chunk against the bandwidth cap and, while the cap is spent, holds
 * the reading back: the body's stream then fills (undici's queue, about
 * 64 KiB) and stops reading the socket. The wait is ours, not the source's
 * silence, so the stall watchdog is paused through it.
 */
async function underCap (n: number, limiter: DownloadLimiter | undefined, watchdog: StallWatchdog, signal: AbortSignal): Promise<void> {
  if (limiter == null) return
  limiter.take(n)
  if (limiter.delayMs() === 0) return
  watchdog.pause()
  try {
    await limiter.ready(signal)
  } finally {
    watchdog.resume()
  }
}

/** Reads a response body into one buffer, refusing more than `cap` bytes (a lying or hostile source). */
async function readCapped (res: Response, cap: number, kick: () => void, what: string, guard: StallGuard, limiter: DownloadLimiter | undefined): Promise<Uint8Array> {
  if (res.body == null) return new Uint8Array(0)
  const parts: Uint8Array[] = []
  let total = 0
  for await (const chunk of res.body) {
    kick()
    total += chunk.byteLength
    if (total > cap) throw sourceFailure(`${what} is larger than the 2 MiB block limit`, classifyCondition('bad-data'))
    parts.push(chunk)
    await underCap(chunk.byteLength, limiter, guard.watchdog, guard.signal)
  }
  return parts.length === 1 && parts[0] != null ? parts[0] : Buffer.concat(parts, total)
}

export function parseCid (input: string): CID {
  return CID.parse(input.trim())
}
