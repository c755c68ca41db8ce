/**
 * One byte range of a file from a gateway's plain (deserialized) response,
 * read straight into buffers the caller owns.
 *
 * Why this is hand-written and not fetch / undici / node:http: those clients
 * allocate a fresh Buffer for every socket read and hand it on, and none can
 * read into memory the caller owns. Measured on a 1 GiB file from a local kubo
 * (2 cores): node:http reads 400–620 MB/s and peaks at 150–200 MiB RSS;
 * `net.Socket`'s `onread` with caller buffers reads the same bytes at
 * 650–900 MB/s in 60 MiB, and lets each leaf's bytes land where they are
 * hashed and written from, with no copy.
 *
 * So it is deliberately tiny and strict: one `GET` with `Range` over HTTP/1.1
 * and `Connection: close` (`http:`, or `https:` through node:tls, which reads
 * into caller buffers the same way, with the usual certificate checks) —
 * or, given a `keepAlive` pool (connections.ts), without `Connection: close`
 * on a connection kept from an earlier whole answer — and the answer must be exactly
 * `206` with the `Content-Range` asked for (and a matching `Content-Length`,
 * or none, the body then ending with the connection), with no transfer or
 * content encoding. Anything else (a redirect, a 406 from a
 * trustless-only gateway, a 200 with the whole file, chunked framing, an
 * HTTP/2-only server) is a
 * RangeUnsupportedError: the caller then uses trustless CAR requests for that
 * source instead. Nothing here is trusted: the caller verifies every byte.
 */
import { connect, isIP, type Socket } from 'node:net'
import { connect as connectTls, type ConnectionOptions, type SecureContextOptions } from 'node:tls'
import { AbortedError, RangeUnsupportedError, SourceNotAnsweringError } from '../errors.ts'
import { classifyCondition, classifyError, classifyStatus, isConnectionLoss, retryAfterMs } from '../net/classify.ts'
import type { DownloadLimiter } from '../net/rate-limit.ts'
import { StallWatchdog } from '../net/watchdog.ts'
import { Connection, type ConnectionPool } from './connections.ts'
import { sourceFailure } from './source.ts'


/** Where the body goes. `buffer()` is where the next bytes land; `wrote(n)` says n bytes landed at its start. */
export interface RangeSink {
  /** A non-empty view to read the next bytes into, or undefined when there is no room yet (reading pauses). */
  buffer: () => Uint8Array | undefined
  /** `n` bytes were put at the start of the view `buffer()` returned last. May throw (a bad leaf): the request stops with that error. */
  wrote: (n: number) => void
}

export interface RangeRequestOptions {
  /** `http://host:port/prefix` of the gateway. */
  baseUrl: string
  /** Path under the base, e.g. `/ipfs/<cid>`. */
  path: string
  /** Byte range of the file, [from, to). */
  from: number
  to: number
  signal: AbortSignal
  /** No bytes for this long while we are reading = stalled. */
  stallMs: number
  /**
   * No connection or no first response byte within this long = the source is
   * not answering (SourceNotAnsweringError); much shorter than `stallMs`, so a
   * dead gateway is set aside in seconds. Undefined: `stallMs` alone.
   */
  firstByteMs?: number
  sink: RangeSink
  /** For `https:`: certificate authorities to trust instead of Node's defaults (tests, private gateways). */
  ca?: SecureContextOptions['ca']
  /**
   * The pull's bandwidth cap. Every socket read is counted against it; while
   * it is spent the socket is paused (no view is handed to it, as when the
   * sink is full) and the stall watchdog with it, and each read asks for at
   * most 64 KiB, so one read's debt stays small.
   */
  limiter?: DownloadLimiter
  /** Keep-alive connections to reuse and return to (connections.ts); none: one connection per request, `Connection: close`. */
  keepAlive?: ConnectionPool
}

const MAX_HEADER_BYTES = 64 * 1024
const HEADER_END = Buffer.from('\r\n\r\n')
/** At least this much room for a read into scratch (a TLS record is at most 16 KiB). */
const MIN_SCRATCH_ROOM = 32 * 1024

/**
 * Reads `[from, to)` into the sink. Resolves once every byte was handed to
 * `sink.wrote`; rejects with RangeUnsupportedError, SourceRequestError
 * (transient or permanent as net/classify.ts says), AbortedError, or
 * whatever the sink threw. Call `resume()` when the sink has room again.
 */
export class RangeRequest {
  private readonly opts: RangeRequestOptions
  private socket: Socket | undefined
  private conn: Connection | undefined
  /** The answer is framed so the connection may carry the next request (HTTP/1.1, Content-Length, no `Connection: close`). */
  private reusable = false
  private scratch = Buffer.allocUnsafe(MAX_HEADER_BYTES)
  private headerBytes = 0
  private inHeader = true
  /** Body bytes sitting in `scratch` not yet given to the sink (after the header, or read while the sink was full). */
  private pendingFrom = 0
  private pendingTo = 0
  private remaining: number
  private paused = false
  /** Set while the bandwidth cap holds reading back (with `paused`): cancels the wait. */
  private capWait: (() => void) | undefined
  /** Runs only while we are reading: a full sink (our disk behind) pauses it. */
  private watchdog: StallWatchdog | undefined
  private settled = false
  private firstByteTimer: NodeJS.Timeout | undefined
  /** Set by truncate(): bytes past the new end are dropped, not an error. */
  private truncated = false
  private to: number
  private resolve!: () => void
  private reject!: (err: unknown) => void
  /** The view given to the socket for its next read. */
  private current: Uint8Array

  constructor (opts: RangeRequestOptions) {
    this.opts = opts
    this.remaining = opts.to - opts.from
    this.to = opts.to
    this.current = this.scratch
  }

  /** The end of the range as it now stands (truncate() may move it forward). */
  get end (): number { return this.to }

  /**
   * Ends the read at `to` instead (a leaf boundary the sink has not reached:
   * the rest was given to another source). Resolves as complete once the
   * bytes up to there arrived; the connection is closed then. False when `to`
   * is not inside what is still due.
   */
  truncate (to: number): boolean {
    if (this.settled || to >= this.to) return false
    const delivered = (this.to - this.opts.from) - this.remaining
    const left = to - this.opts.from - delivered
    if (left < 0) return false
    this.truncated = true
    this.remaining = left
    this.to = to
    this.pendingTo = Math.min(this.pendingTo, this.pendingFrom + left)
    if (left === 0) this.finish()
    return true
  }

  async run (): Promise<void> {
    const { opts } = this
    if (opts.signal.aborted) throw new AbortedError('pull')
    const url = new URL(opts.baseUrl)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RangeUnsupportedError(`byte ranges are read over http and https only (${url.protocol})`)
    const secure = url.protocol === 'https:'
    const done = new Promise<void>((resolve, reject) => { this.resolve = resolve; this.reject = reject })
    const onAbort = (): void => { this.fail(new AbortedError('pull')) }
    opts.signal.addEventListener('abort', onAbort, { once: true })
    if (opts.firstByteMs !== undefined && opts.firstByteMs < opts.stallMs) {
      const ms = opts.firstByteMs
      this.firstByteTimer = setTimeout(() => { this.fail(new SourceNotAnsweringError(`not answering (no response within ${ms / 1000} s)`)) }, ms)
    }
    this.watchdog = new StallWatchdog(opts.stallMs, () => { this.fail(sourceFailure((this.watchdog as StallWatchdog).describe(), classifyCondition('stalled'))) })
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
    const port = Number(url.port === '' ? (secure ? 443 : 80) : url.port)
    const prefix = url.pathname.replace(/\/+$/, '')
    const head = `GET ${prefix}${opts.path} HTTP/1.1\r\nHost: ${url.host}\r\nRange: bytes=${opts.from}-${opts.to - 1}\r\n` +
      `Accept: application/octet-stream, */*;q=0.1\r\nAccept-Encoding: identity\r\nUser-Agent: citrate-ipfs\r\n${opts.keepAlive != null ? '' : 'Connection: close\r\n'}\r\n`
    const origin = `${url.protocol}//${host}:${port}`
    const dial = (onread: { buffer: () => Uint8Array, callback: (n: number, buf: Uint8Array) => boolean }): Socket => secure
      // node:tls takes `onread` like node:net (nodejs/node#35753); @types/node does not list it.
      ? connectTls({ host, port, servername: isIP(host) === 0 ? host : undefined, ALPNProtocols: ['http/1.1'], ca: opts.ca, onread } as ConnectionOptions)
      : connect({ host, port, noDelay: true, onread })
    this.open(origin, head, secure, dial)
    try {
      await done
    } finally {
      opts.signal.removeEventListener('abort', onAbort)
    }
  }

  /** Sends the request on a kept connection to `origin`, or a new one. */
  private open (origin: string, head: string, secure: boolean, dial: ConstructorParameters<typeof Connection>[1]): void {
    const { opts } = this
    const kept = opts.keepAlive?.take(origin)
    const conn = kept ?? new Connection(origin, dial)
    conn.belongsTo(opts.keepAlive)
    this.conn = conn
    this.socket = conn.socket
    // No silent retry when a kept connection closes before any byte: that is reported like on a new
    // one (a gateway resetting connections must be seen). Idle ones are read, so a server's close
    // while idle removes them from the pool; only a close racing our request is left (rare).
    conn.claim({
      view: () => this.current,
      onRead: (n, buf) => this.onRead(n, buf),
      onError: (err) => {
        const { class: kind, detail } = classifyError(err)
        if (err.code === 'ECONNREFUSED') { this.fail(new SourceNotAnsweringError(`not answering: request failed (${detail})`, { cause: err })); return }
        this.fail(sourceFailure(`request failed (${detail})`, kind, { cause: err, connectionLost: isConnectionLoss(detail) }))
      },
      // The end may come while we are paused with the last bytes waiting in
      // scratch (TLS reads ahead): only bytes never received make it short.
      onEnd: () => {
        if (this.inHeader) this.fail(sourceFailure('connection closed before a response', classifyCondition('cut-short'), { connectionLost: true }))
        else if (this.unreceived > 0) this.fail(sourceFailure(`byte range ${opts.from}-${opts.to - 1} ended ${this.unreceived} bytes short`, classifyCondition('cut-short'), { connectionLost: true }))
      },
      onClose: () => {
        if (this.inHeader || this.unreceived > 0) this.fail(sourceFailure('connection closed', classifyCondition('cut-short'), { connectionLost: true }))
      }
    })
    if (kept !== undefined) {
      conn.socket.write(head)
      // It was reading while idle; the request's own reads start now.
      conn.socket.resume()
    } else {
      conn.socket.once(secure ? 'secureConnect' : 'connect', () => { conn.socket.write(head) })
    }
  }

  /**
   * The sink has room again: reading goes on. Nothing here may move bytes in
   * scratch: the socket already holds the view its next read lands in.
   */
  resume (): void {
    // While the cap holds us back, its timer resumes reading (the sink having room is not enough).
    if (!this.paused || this.settled || this.capWait !== undefined) return
    this.paused = false
    try {
      if (!this.drainPending()) { this.paused = true; return }
      if (this.remaining === 0) { this.finish(); return }
      if (this.holdForCap()) return
      this.current = this.nextView() ?? this.scratchRoom()
      this.watchdog?.resume()
      this.socket?.resume()
    } catch (err) {
      this.fail(err)
    }
  }

  /** Ends the read now as complete (its partner read delivered the rest); the connection is closed. */
  stop (): void {
    this.finish()
  }

  private onRead (n: number, buf: Uint8Array): boolean {
    if (this.settled) return false
    if (this.firstByteTimer !== undefined) { clearTimeout(this.firstByteTimer); this.firstByteTimer = undefined }
    this.watchdog?.kick()
    this.opts.limiter?.take(n)
    try {
      if (this.inHeader) {
        this.headerBytes += n
        if (!this.parseHeader()) {
          if (this.headerBytes >= MAX_HEADER_BYTES) throw new RangeUnsupportedError('response header over 64 KiB')
          this.current = this.scratch.subarray(this.headerBytes)
          return true
        }
      } else if (buf.buffer === this.scratch.buffer) {
        // Read into scratch because the sink had no room when the socket took
        // its next view (node asks `buffer()` for it right after each callback,
        // so it may be older than `this.current`): where it landed says where it is.
        const at = buf.byteOffset - this.scratch.byteOffset
        if (this.pendingFrom === this.pendingTo) {
          this.pendingFrom = at
          this.pendingTo = at + n
        } else if (at === this.pendingTo) {
          this.pendingTo += n
        } else {
          throw new Error(`range client: a read landed at ${at} in scratch, not after the ${this.pendingTo - this.pendingFrom} bytes waiting there`)
        }
        if (this.truncated) this.pendingTo = Math.min(this.pendingTo, this.pendingFrom + this.remaining)
        if (this.pendingTo - this.pendingFrom > this.remaining) throw sourceFailure('more body bytes than the Content-Length', classifyCondition('bad-data'))
        // Still paused (TLS hands over what it had decrypted after a pause): keep it for resume().
        if (this.paused) return this.pause()
      } else {
        if (n > this.remaining && this.truncated) n = this.remaining
        if (n > this.remaining) throw sourceFailure('more body bytes than the Content-Length', classifyCondition('bad-data'))
        this.remaining -= n
        this.opts.sink.wrote(n)
      }
      if (!this.drainPending()) return this.pause()
      if (this.remaining === 0) return this.finish()
      if (this.holdForCap()) return false
      const view = this.nextView()
      if (view == null) return this.pause()
      this.current = view
      return true
    } catch (err) {
      this.fail(err)
      return false
    }
  }

  private pause (): false {
    this.paused = true
    // Our own disk is behind: that is not the source stalling.
    this.watchdog?.pause()
    this.current = this.scratchRoom()
    return false
  }

  /**
   * True when the bandwidth cap is spent: reading pauses (the socket gets no
   * view; TLS leftovers land in scratch as during a full-sink pause) until
   * the cap's timer calls resume(). The wait is ours: the watchdog pauses.
   */
  private holdForCap (): boolean {
    const limiter = this.opts.limiter
    if (limiter == null || limiter.delayMs() === 0) return false
    this.pause()
    this.capWait = limiter.whenReady(() => {
      this.capWait = undefined
      this.resume()
    })
    return true
  }

  /** Body bytes the source has yet to send (those waiting in scratch are received). */
  private get unreceived (): number {
    return this.remaining - (this.pendingTo - this.pendingFrom)
  }

  /**
   * Room in scratch after the bytes waiting there, for reads that arrive while
   * the sink is full: compacted, or (rarely, a TLS socket emptying its
   * buffers after a pause) grown, so nothing is ever overwritten.
   */
  private scratchRoom (): Uint8Array {
    const waiting = this.pendingTo - this.pendingFrom
    if (waiting === 0) {
      this.pendingFrom = this.pendingTo = 0
    } else if (this.scratch.byteLength - this.pendingTo < MIN_SCRATCH_ROOM) {
      if (waiting + MIN_SCRATCH_ROOM > this.scratch.byteLength) {
        const bigger = Buffer.allocUnsafe(Math.max(2 * this.scratch.byteLength, waiting + MIN_SCRATCH_ROOM))
        bigger.set(this.scratch.subarray(this.pendingFrom, this.pendingTo))
        this.scratch = bigger
      } else {
        this.scratch.copyWithin(0, this.pendingFrom, this.pendingTo)
      }
      this.pendingFrom = 0
      this.pendingTo = waiting
    }
    return this.scratch.subarray(this.pendingTo)
  }

  /** A view of the sink's next room, never longer than the bytes still due. */
  private nextView (): Uint8Array | undefined {
    const view = this.opts.sink.buffer()
    if (view == null || view.byteLength === 0) return undefined
    const max = this.opts.limiter?.readCap(this.remaining) ?? this.remaining
    return view.byteLength > max ? view.subarray(0, max) : view
  }

  /** Copies body bytes waiting in scratch into the sink; false when the sink ran out of room first. */
  private drainPending (): boolean {
    while (this.pendingFrom < this.pendingTo) {
      const view = this.nextView()
      if (view == null) return false
      const k = Math.min(view.byteLength, this.pendingTo - this.pendingFrom)
      view.set(this.scratch.subarray(this.pendingFrom, this.pendingFrom + k))
      this.pendingFrom += k
      this.remaining -= k
      this.opts.sink.wrote(k)
    }
    return true
  }

  /** True once the whole header is in; checks it and queues the body bytes read with it. */
  private parseHeader (): boolean {
    const end = this.scratch.subarray(0, this.headerBytes).indexOf(HEADER_END)
    if (end < 0) return false
    this.inHeader = false
    const lines = this.scratch.toString('latin1', 0, end).split('\r\n')
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')
    if (status == null) throw new RangeUnsupportedError(`not an HTTP/1.1 response (${JSON.stringify((lines[0] ?? '').slice(0, 40))})`)
    const code = Number(status[1])
    const headers = new Map<string, string>()
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':')
      if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim())
    }
    const { from, to } = this.opts
    const want = to - from
    // 404/410: the source lacks the content. Other failures are classify.ts's call: transient ones are
    // retried; the rest (a 406 from a trustless-only gateway, a 501) mean it will not serve ranges.
    if (code === 404 || code === 410) throw sourceFailure(`HTTP ${code}`, 'permanent')
    if (code >= 400 && classifyStatus(code) === 'transient') {
      const rest = retryAfterMs(code, headers.get('retry-after'))
      throw sourceFailure(`HTTP ${code}${rest !== undefined ? ` (Retry-After ${rest / 1000} s)` : ''}`, 'transient', { retryAfterMs: rest })
    }
    const length = Number(headers.get('content-length') ?? NaN)
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(headers.get('content-range') ?? '')
    const whole = code === 200 && from === 0 && length === want
    if (code !== 206 && !whole) throw new RangeUnsupportedError(`HTTP ${code} to a byte range request`)
    if (code === 206 && (range == null || Number(range[1]) !== from || Number(range[2]) !== to - 1)) {
      throw new RangeUnsupportedError(`Content-Range ${JSON.stringify(headers.get('content-range') ?? null)} for bytes ${from}-${to - 1}`)
    }
    if (headers.has('transfer-encoding')) throw new RangeUnsupportedError(`Transfer-Encoding ${headers.get('transfer-encoding') ?? ''}`)
    // Without a Content-Length the body ends when the connection closes (we asked for `Connection: close`); its length is the range's.
    if (headers.has('content-length') && length !== want) throw new RangeUnsupportedError(`Content-Length ${headers.get('content-length') ?? ''} for ${want} bytes`)
    if (!headers.has('content-length') && code !== 206) throw new RangeUnsupportedError('HTTP 200 without a Content-Length')
    const encoding = headers.get('content-encoding')
    if (encoding != null && encoding !== 'identity') throw new RangeUnsupportedError(`Content-Encoding ${encoding}`)
    this.reusable = this.opts.keepAlive != null && headers.has('content-length') && (lines[0] ?? '').startsWith('HTTP/1.1') &&
      !/\bclose\b/i.test(headers.get('connection') ?? '')
    this.pendingFrom = end + HEADER_END.length
    this.pendingTo = Math.min(this.headerBytes, this.pendingFrom + want, this.pendingFrom + this.remaining)
    if (this.headerBytes - this.pendingFrom > want) throw sourceFailure('more body bytes than the Content-Length', classifyCondition('bad-data'))
    return true
  }

  /** Resolves the read; true when its connection went back to the keep-alive pool (it reads on, idle). */
  private finish (): boolean {
    if (this.settled) return false
    this.settled = true
    this.capWait?.()
    this.capWait = undefined
    clearTimeout(this.firstByteTimer)
    this.watchdog?.stop()
    // Reused only when our read ended exactly where the answer did, with nothing left over.
    const reuse = this.reusable && !this.truncated && this.remaining === 0 && this.pendingFrom === this.pendingTo
    if (reuse) this.conn?.release()
    else this.conn?.destroy()
    this.resolve()
    return reuse
  }

  private fail (err: unknown): void {
    if (this.settled) return
    this.settled = true
    this.capWait?.()
    this.capWait = undefined
    clearTimeout(this.firstByteTimer)
    this.watchdog?.stop()
    this.conn?.destroy()
    this.reject(err)
  }
}
