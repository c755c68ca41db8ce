/**
 * A trustless HTTP gateway (kubo's own, or any public one) as a verified block
 * source. Gateways are untrusted: we only ask for trustless responses
 * (`application/vnd.ipld.raw` blocks and `application/vnd.ipld.car` streams),
 * cap every block at 2 MiB, and verify every block against its CID before
 * anyone sees it. A source that stops sending bytes for `stallMs` is treated as
 * failed (stalled), so its work can move to another source.
 */
import { CID } from 'multiformats/cid'
import { AbortedError, BlockVerificationError, CitrateError, UnsupportedContentError } from '../errors.ts'
import { readCarBlocks } from './car.ts'
import { SourceRequestError, type BlockRequestOptions, type BlockSource, type CarRequestOptions, type VerifiedBlock } from './source.ts'
import { MAX_BLOCK_BYTES, verifyBlock } from '../ipld/verify-block.ts'
import type { RangeRequestOptions } from './range-client.ts'

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
  /** For https byte-range reads: certificate authorities to trust instead of Node's defaults. */
  ca?: RangeRequestOptions['ca']
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

export class GatewaySource implements BlockSource {
  readonly name: string
  readonly kind: 'daemon' | 'gateway'
  readonly baseUrl: string
  readonly stallMs: number
  readonly rangeBaseUrl: string | undefined
  readonly ca: RangeRequestOptions['ca']

  constructor (baseUrl: string, opts: GatewaySourceOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '')
    this.name = opts.name ?? this.baseUrl
    this.kind = opts.kind ?? 'gateway'
    this.stallMs = opts.stallMs ?? 20_000
    this.rangeBaseUrl = (opts.byteRanges ?? !behindProxy(this.baseUrl)) && /^https?:/.test(this.baseUrl) ? this.baseUrl : undefined
    this.ca = opts.ca
  }

  async getBlock (cid: CID, opts: BlockRequestOptions = {}): Promise<Uint8Array> {
    const url = `${this.baseUrl}/ipfs/${cid.toString()}?format=raw`
    return await this.withWatchdog(opts.signal, async (signal, kick) => {
      const res = await this.request(url, 'application/vnd.ipld.raw', signal)
      kick()
      const declared = Number(res.headers.get('content-length') ?? NaN)
      if (Number.isFinite(declared) && declared > MAX_BLOCK_BYTES) {
        await res.body?.cancel().catch(() => {})
        throw new SourceRequestError(`block ${cid.toString()} announced as ${declared} bytes (over the 2 MiB block limit)`, true)
      }
      const bytes = await readCapped(res, MAX_BLOCK_BYTES, kick, `block ${cid.toString()}`)
      try {
        verifyBlock(cid, bytes)
      } catch (err) {
        if (err instanceof BlockVerificationError) throw new SourceRequestError(err.message, true, { cause: err })
        throw err
      }
      return bytes
    })
  }

  async * carBlocks (cid: CID, opts: CarRequestOptions = {}): AsyncIterable<VerifiedBlock> {
    const params = new URLSearchParams({ format: 'car', 'dag-scope': 'entity', 'car-version': '1', 'car-order': 'dfs', 'car-dups': 'n' })
    if (opts.entityBytes != null) params.set('entity-bytes', `${opts.entityBytes.from}:${opts.entityBytes.to ?? '*'}`)
    const url = `${this.baseUrl}/ipfs/${cid.toString()}?${params.toString().replace(/%3A/g, ':').replace(/%2A/g, '*')}`
    const outer = opts.signal
    const ctrl = new AbortController()
    const onAbort = (): void => { ctrl.abort(outer?.reason) }
    outer?.addEventListener('abort', onAbort, { once: true })
    let timer: NodeJS.Timeout | undefined
    let stalled = false
    const kick = (): void => {
      clearTimeout(timer)
      timer = setTimeout(() => { stalled = true; ctrl.abort() }, this.stallMs)
    }
    kick()
    try {
      const res = await this.request(url, 'application/vnd.ipld.car', ctrl.signal)
      kick()
      if (res.body == null) throw new SourceRequestError('empty CAR response', true)
      const body = res.body
      const chunks = async function * (): AsyncGenerator<Uint8Array> {
        for await (const chunk of body) {
          kick()
          opts.onWireBytes?.(chunk.byteLength)
          yield chunk
        }
      }
      for await (const block of readCarBlocks(chunks())) {
        try {
          verifyBlock(block.cid, block.bytes)
        } catch (err) {
          if (err instanceof BlockVerificationError) throw new SourceRequestError(err.message, true, { cause: err })
          if (err instanceof UnsupportedContentError) continue // an unrequested block we could not check: ignore it
          throw err
        }
        yield block
      }
    } catch (err) {
      throw this.translate(err, stalled, outer)
    } finally {
      clearTimeout(timer)
      outer?.removeEventListener('abort', onAbort)
      if (!ctrl.signal.aborted) ctrl.abort()
    }
  }

  private async request (url: string, accept: string, signal: AbortSignal): Promise<Response> {
    const res = await fetch(url, {
      headers: { accept, 'ngrok-skip-browser-warning': '1', 'user-agent': 'citrate-ipfs' },
      signal,
      redirect: 'follow'
    })
    if (!res.ok) {
      await res.body?.cancel().catch(() => {})
      // 404/410: the source does not have it; 4xx in general means it will not serve this request.
      throw new SourceRequestError(`HTTP ${res.status} ${res.statusText}`.trim(), res.status >= 400 && res.status < 500 && res.status !== 429)
    }
    const type = (res.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase()
    if (type !== accept) {
      await res.body?.cancel().catch(() => {})
      throw new SourceRequestError(`not a trustless response (content-type ${type === '' ? 'missing' : type}, wanted ${accept})`, true)
    }
    return res
  }

  /** Runs one request under a stall watchdog: `kick()` on progress; silence for stallMs aborts it. */
  private async withWatchdog<T> (outer: AbortSignal | undefined, fn: (signal: AbortSignal, kick: () => void) => Promise<T>): Promise<T> {
    const ctrl = new AbortController()
    const onAbort = (): void => { ctrl.abort(outer?.reason) }
    outer?.addEventListener('abort', onAbort, { once: true })
    let stalled = false
    let timer: NodeJS.Timeout | undefined
    const kick = (): void => {
      clearTimeout(timer)
      timer = setTimeout(() => { stalled = true; ctrl.abort() }, this.stallMs)
    }
    kick()
    try {
      return await fn(ctrl.signal, kick)
    } catch (err) {
      throw this.translate(err, stalled, outer)
    } finally {
      clearTimeout(timer)
      outer?.removeEventListener('abort', onAbort)
    }
  }

  private translate (err: unknown, stalled: boolean, outer: AbortSignal | undefined): Error {
    if (outer?.aborted === true) return new AbortedError('pull')
    if (stalled) return new SourceRequestError(`stalled (no data for ${Math.round(this.stallMs / 100) / 10} s)`, false)
    if (err instanceof CitrateError) return err
    const cause = (err as { cause?: { code?: string, message?: string } }).cause
    const detail = cause?.code ?? cause?.message ?? (err as Error).message
    return new SourceRequestError(`request failed (${detail})`, false, { cause: err })
  }
}

/** Reads a response body into one buffer, refusing more than `cap` bytes (a lying or hostile source). */
async function readCapped (res: Response, cap: number, kick: () => void, what: string): Promise<Uint8Array> {
  if (res.body == null) return new Uint8Array(0)
  const parts: Uint8Array[] = []
  let total = 0
  for await (const chunk of res.body) {
    kick()
    total += chunk.byteLength
    if (total > cap) throw new SourceRequestError(`${what} is larger than the 2 MiB block limit`, true)
    parts.push(chunk)
  }
  return parts.length === 1 && parts[0] != null ? parts[0] : Buffer.concat(parts, total)
}

export function parseCid (input: string): CID {
  return CID.parse(input.trim())
}
