/**
 * Gets verified blocks from an ordered list of sources for one pull. Every
 * healthy source works at once: each request goes to the source expected to
 * finish it soonest, with as many in flight per source as its adaptive window
 * allows (source-pool.ts has the rules and the numbers); a request waits
 * (abortably) while every usable source's window is full.
 *
 * A source that accepts no connection or sends no first byte within its
 * first-byte timeout (4 s for gateways, doubling per strike) is set aside
 * while other sources remain (5 s, doubling, up to 60 s) and reported at once
 * through `onSourceFailed` ("not answering"); it is asked again after that.
 *
 * When to ask a source again is net/health.ts's call: a source that sends a
 * bad block (or a non-trustless answer, or 404) is dropped for the rest of the
 * pull at once; after a transient failure (5xx, a reset, a stall) the work is
 * retried elsewhere and the source cools down for a backoff delay; it is
 * dropped only after failing round after round without delivering a byte.
 * When every live source is cooling down, requests wait for the first to be
 * ready (abortably) instead of failing. Every drop is kept with its reason.
 */
import { formatBytes } from '@citrate-ipfs/contract/plain'
import type { CID } from 'multiformats/cid'
import { AbortedError, AllSourcesFailedError, RangeUnsupportedError, SourceNotAnsweringError, SourceRequestError, type SourceFailure } from '../errors.ts'
import { logger } from '../log.ts'
import { earliestReady, SourceHealth, type Attempt, type HealthPolicy, type SourceStats } from '../net/health.ts'
import type { DownloadLimiter } from '../net/rate-limit.ts'
import type { LeafSink } from './leaf-sink.ts'
import { ConnectionPool } from './connections.ts'
import { RangeRequest } from './range-client.ts'
import { GATEWAY_INITIAL_WINDOW, SAMPLE_MS, SourcePool, TIER_CAPS } from './source-pool.ts'
import type { BlockSource, VerifiedBlock } from './source.ts'
import { isIdentity, verifyBlock } from '../ipld/verify-block.ts'

const log = logger('fetch')

/** What a block request is expected to bring, for choosing a source (most leaves and nodes are 256 KiB–1 MiB). */
const BLOCK_BYTES_GUESS = 256 * 1024
/** A not-answering source (while others answer) is set aside this long, doubling per strike, up to the cap. */
const SET_ASIDE_MS = 5000
const SET_ASIDE_MAX_MS = 60_000

interface SourceState {
  source: BlockSource
  index: number
  health: SourceHealth
  /** First-byte timeouts in a row; each doubles the next timeout and the set-aside. */
  notAnswering: number
  /** False once the source answered a byte-range request in a way we cannot use (it then gets CAR requests only). */
  ranges: boolean
  /** Bytes received so far by each byte-range read in flight (credited to health when it ends), for live progress. */
  live: Set<() => number>
}

/** How a byte-range read ended; `source` is the one asked. */
export type RangeOutcome =
  | { outcome: 'complete', source: string }
  /** No source can serve byte ranges (any more): use CAR requests. */
  | { outcome: 'unavailable' }
  /** The source answered in a way we cannot use for ranges; it will not be asked for ranges again. */
  | { outcome: 'unsupported', source: string }
  /** The source failed (it cools down, or was dropped); what was not received must be fetched again. */
  | { outcome: 'failed', source: string }

/** How a range read is placed: `avoid` a source (a hedge goes elsewhere); `wait` false gives up instead of waiting for room. */
export interface RangeChoice {
  avoid?: string
  wait?: boolean
  /** Plenty of work is still queued: keep every source's window full (source-pool.ts choose) rather than finish this piece soonest. */
  fill?: boolean
}

/** The tail of a pull, for tests and logs: reads split (work stealing) and reads hedged, and how hedges ended. */
export interface TailStats { steals: number, hedges: number, hedgeWins: number }

export interface BlockFetcherOptions {
  /** Requests in flight per source at most, overriding the per-kind caps (source-pool.ts). */
  perSourceConcurrency?: number
  /** Cooldowns and drop threshold for sources that do not bring their own (`BlockSource.retry`). */
  retry?: HealthPolicy
  onSourceFailed?: (failure: SourceFailure & { dropped: boolean }) => void
  /** The bandwidth cap every read of every source counts against (net/rate-limit.ts); none by default. */
  limiter?: DownloadLimiter
}

/** One source's part in a pull, for logs and progress screens. */
export interface SourceReport extends SourceStats {
  source: string
  kind: 'daemon' | 'gateway'
}

export class BlockFetcher {
  private readonly states: SourceState[]
  private readonly pool: SourcePool
  private readonly onSourceFailed: BlockFetcherOptions['onSourceFailed']
  private readonly limiter: DownloadLimiter | undefined
  private readonly dropped: SourceFailure[] = []
  private lastPicked: SourceState | undefined
  /** Bytes received from the network (verified blocks only). */
  fetchedBytes = 0
  /** The source that answered most recently. */
  currentSource: string | null = null
  /** Counted by the walk's tail (fetch/walk/tail.ts). */
  readonly tail: TailStats = { steals: 0, hedges: 0, hedgeWins: 0 }
  /** Requests waiting for a source's window to have room. */
  private readonly waiters = new Set<() => void>()
  /** Range reads in flight, sampled for throughput while they run. */
  private readonly reading = new Map<LeafSink, { index: number, seen: number }>()
  private sampler: NodeJS.Timeout | undefined
  /** Keep-alive connections of this pull's byte-range reads (connections.ts); closed by close(). */
  private readonly connections = new ConnectionPool()

  constructor (sources: BlockSource[], opts: BlockFetcherOptions = {}) {
    this.states = sources.map((source, index) => ({
      source,
      index,
      health: new SourceHealth({ ...opts.retry, ...source.retry }),
      notAnswering: 0,
      ranges: source.rangeBaseUrl != null,
      live: new Set()
    }))
    this.pool = new SourcePool(sources.map(s => opts.perSourceConcurrency ?? s.maxInFlight ?? (s.kind === 'daemon' ? TIER_CAPS.daemon : TIER_CAPS.own)),
      undefined, sources.map(s => s.kind === 'gateway' ? GATEWAY_INITIAL_WINDOW : 2))
    this.onSourceFailed = opts.onSourceFailed
    this.limiter = opts.limiter
  }

  /**
   * Sources dropped during the pull, with why; then sources still in use whose
   * last requests failed with no delivery since (so a pull that finished
   * without them still says why they were not used).
   */
  get failures (): SourceFailure[] {
    const unrecovered = this.states
      .filter(s => !s.health.dropped && s.health.stats().lastFailure !== undefined)
      .map(s => {
        const st = s.health.stats()
        return { source: s.source.name, reason: `${st.lastFailure ?? ''} (not dropped: ${st.consecutiveFailures} failure(s) in a row, nothing delivered since)` }
      })
    return [...this.dropped, ...unrecovered]
  }

  /** Sources that delivered at least one block, in order. */
  get usedSources (): BlockSource[] {
    return this.states.filter(s => s.health.stats().bytes > 0).map(s => s.source)
  }

  /**
   * Per source, in order: bytes delivered (those of byte-range reads still
   * running included, so progress moves while a 64 MiB range is read),
   * throughput while busy, requests, failures, whether and why dropped.
   */
  get sourceStats (): SourceReport[] {
    return this.states.map(s => {
      const st = s.health.stats()
      let live = 0
      for (const received of s.live) live += received()
      return { source: s.source.name, kind: s.source.kind, ...st, bytes: st.bytes + live }
    })
  }

  /** Closes the idle keep-alive connections (call once the pull ends; reads still running close theirs). */
  close (): void { this.connections.close() }

  /** Writes sourceStats to the `citrate:fetch` debug log (call once a pull ends). */
  logStats (): void {
    if (!log.enabled) return
    for (const s of this.sourceStats) {
      log('%s: %d bytes in %d requests, %s/s while busy (%d ms), %d failure(s)%s', s.source, s.bytes, s.requests,
        formatBytes(s.bytesPerSecond), s.busyMs, s.failures, s.dropped ? `, dropped: ${s.dropReason ?? ''}` : '')
    }
  }

  /**
   * Range sources still answering: not dropped, ranges not refused, and not
   * set aside for giving no answer (SET_ASIDE_MS). A pull whose other sources
   * never answered reads like a single-source one (walk/context.ts retune).
   */
  get answeringRangeSources (): number {
    return this.answering().length
  }

  /** Requests the answering range sources may have in flight together now (their windows, source-pool.ts allowed). */
  get answeringWindows (): number {
    return this.answering().reduce((n, s) => n + this.pool.allowed(s.index), 0)
  }

  private answering (): SourceState[] {
    const now = Date.now()
    return this.states.filter(s => !s.health.dropped && s.ranges && !(s.notAnswering > 0 && s.health.coolingDown(now)))
  }

  /** Sources that may still be asked for byte ranges (not dropped, ranges not refused). */
  get rangeSources (): number {
    return this.states.filter(s => !s.health.dropped && s.ranges).length
  }

  /**
   * A live range source other than `except`, not cooling down, with room in
   * its window: the one the pool would give a piece to now (source-pool.ts
   * choose), someone to hand tail work to. Undefined when none has room.
   */
  spareRangeSource (except?: string): string | undefined {
    const now = Date.now()
    const open = this.states.filter(s => !s.health.dropped && s.ranges && s.source.name !== except && !s.health.coolingDown(now))
    const chosen = this.pool.choose(open.map(s => s.index), BLOCK_BYTES_GUESS)
    return chosen === undefined ? undefined : this.states[chosen]?.source.name
  }

  private stateOf (name: string | undefined): SourceState | undefined {
    return this.states.find(x => x.source.name === name)
  }

  /** Throughput per request of source `name` (bytes/s) were it to carry `extra` more requests; undefined while unmeasured. */
  perRequestRateOf (name: string | undefined, extra = 0): number | undefined {
    const s = this.stateOf(name)
    if (s == null) return undefined
    const rate = this.pool.rate(s.index)
    return rate === undefined ? undefined : rate / Math.max(1, this.pool.inflight(s.index) + extra)
  }

  /** Measured latency of source `name` (seconds per block request), undefined until known. */
  latencyOf (name: string | undefined): number | undefined {
    const s = this.stateOf(name)
    return s == null ? undefined : this.pool.latency(s.index)
  }

  /** Seconds source `name` is expected to take for `bytes` more (0 while unmeasured). */
  expectedSeconds (name: string | undefined, bytes: number): number {
    const s = this.stateOf(name)
    return s == null ? 0 : this.pool.expectedSeconds(s.index, bytes)
  }


  async get (cid: CID, signal: AbortSignal): Promise<Uint8Array> {
    if (isIdentity(cid)) {
      const bytes = cid.multihash.digest
      verifyBlock(cid, bytes)
      return bytes
    }
    while (true) {
      if (signal.aborted) throw new AbortedError('pull')
      const state = await this.pick(signal, () => true, BLOCK_BYTES_GUESS)
      if (state == null) {
        this.logStats()
        throw new AllSourcesFailedError(cid.toString(), this.failures)
      }
      const attempt = this.begin(state)
      // Named as soon as it is asked: while a pull connects, the source that does not answer is the one to show.
      this.currentSource = state.source.name
      let got = 0
      const t0 = Date.now()
      try {
        const bytes = await state.source.getBlock(cid, { signal, limiter: this.limiter, firstByteMs: this.firstByteMs(state) })
        got = bytes.byteLength
        const ms = Date.now() - t0
        log('block %s from %s in %d ms', cid, state.source.name, ms)
        this.delivered(state, got, ms / 1000)
        return bytes
      } catch (err) {
        if (signal.aborted || err instanceof AbortedError) throw new AbortedError('pull')
        if (!(err instanceof SourceRequestError)) throw err
        this.pool.failed(state.index, 0, 0, err.connectionLost)
        this.failed(state, attempt, err, cid)
      } finally {
        this.end(state, Math.max(0, BLOCK_BYTES_GUESS - got))
      }
    }
  }

  /**
   * Streams the blocks of a byte range of `cid` as a CAR from one source,
   * each verified, to `onBlock` (which returns false to stop early). A failing
   * source cools down and 'failed' is returned: the caller fetches what is
   * still missing some other way; a stream that ends while `missing()` > 0
   * counts as a failure. Only an abort (or onBlock's own error) throws.
   */
  async stream (cid: CID, range: { from: number, to: number }, signal: AbortSignal, onBlock: (block: VerifiedBlock) => Promise<boolean>, missing: () => number): Promise<'complete' | 'stopped' | 'failed'> {
    if (signal.aborted) throw new AbortedError('pull')
    const asked = range.to - range.from + 1
    const state = await this.pick(signal, () => true, asked)
    if (state == null) return 'failed'
    log('CAR %s bytes %d-%d from %s', cid, range.from, range.to, state.source.name)
    const attempt = this.begin(state)
    let got = 0
    try {
      for await (const block of state.source.carBlocks(cid, { signal, limiter: this.limiter, firstByteMs: this.firstByteMs(state), entityBytes: { from: range.from, to: range.to } })) {
        got += block.bytes.byteLength
        this.delivered(state, block.bytes.byteLength)
        if (!await onBlock(block)) return 'stopped'
      }
      // A stream that ends (even with HTTP 200) without blocks the range needs is a truncated or wrong answer.
      const left = missing()
      if (left > 0) throw new SourceRequestError(`CAR response for ${cid.toString()} bytes ${range.from}-${range.to} ended with ${left} needed block(s) missing`, true)
      return 'complete'
    } catch (err) {
      if (signal.aborted || err instanceof AbortedError) throw new AbortedError('pull')
      if (!(err instanceof SourceRequestError)) throw err
      this.pool.failed(state.index, got, asked, err.connectionLost)
      this.failed(state, attempt, err, cid)
      return 'failed'
    } finally {
      this.end(state, Math.max(0, asked - got))
    }
  }

  /**
   * Reads bytes [from, to) of the file `cid` from a source that serves plain
   * byte ranges, into `sink` (which proves every leaf). Source failures are
   * recorded and reported as an outcome; an abort or the sink's own error
   * (a leaf that does not prove, a stop) is thrown, with the source's name
   * attached as `source` so the caller can blame it once it knows better.
   */
  async readRange (cid: CID, from: number, to: number, signal: AbortSignal, sink: LeafSink, choice: RangeChoice = {}): Promise<RangeOutcome> {
    if (signal.aborted) throw new AbortedError('pull')
    const wait = choice.wait ?? true
    // `avoid` is a preference when waiting (the only source left still reads), a rule for a hedge.
    const fill = choice.fill ?? false
    const state = await this.pick(signal, s => s.ranges && s.source.name !== choice.avoid, to - from, wait, fill) ??
      (wait && choice.avoid !== undefined ? await this.pick(signal, s => s.ranges, to - from, true, fill) : undefined)
    if (state == null) return { outcome: 'unavailable' }
    const source = state.source
    const reserved = to - from
    // A source that cuts longer answers gets about what it delivered whole; the rest goes back to the walk.
    const cap = this.pool.responseCap(state.index)
    if (cap !== undefined && to - from > cap) {
      sink.deferred.push(...sink.truncateBytes(cap))
      to = Math.min(to, sink.end)
    }
    log('range %s bytes %d-%d from %s', cid, from, to - 1, source.name)
    this.currentSource = source.name
    const request = new RangeRequest({ baseUrl: source.rangeBaseUrl as string, path: `/ipfs/${cid.toString()}`, from, to, signal, stallMs: source.stallMs ?? 20_000, firstByteMs: this.firstByteMs(state), sink, ca: source.ca, limiter: this.limiter, keepAlive: this.connections })
    const asked = to - from
    sink.onRoom = () => { request.resume() }
    sink.onTruncate = (end) => { if (end === undefined) request.stop(); else request.truncate(end) }
    sink.source = source.name
    sink.startedAt = Date.now()
    const before = sink.received
    const provedBefore = sink.proved
    const attempt = this.begin(state)
    this.reading.set(sink, { index: state.index, seen: before })
    this.sample()
    // Bytes of this read so far, for live per-source progress (sourceStats) before it ends.
    const live = (): number => sink.received - before
    state.live.add(live)
    let thrown: unknown
    try {
      await request.run()
    } catch (err) {
      thrown = err
    } finally {
      state.live.delete(live)
      this.sampleRead(sink)
      this.reading.delete(sink)
      this.end(state, Math.max(0, reserved - (sink.received - before)))
    }
    // What arrived counts before how it ended: a source that delivered and then failed is alive. It is
    // credited with the leaves it sent whole and proved, not with the unchecked start of a leaf it was cut
    // off in (a lying source whose reads were all stolen or hedged away was credited 1.3 MB of 12 MB so).
    const got = sink.received - before
    const proved = sink.proved - provedBefore
    this.fetchedBytes += got
    if (got > 0) state.notAnswering = 0
    if (proved > 0) state.health.delivered(proved)
    if (thrown === undefined) {
      this.pool.succeeded(state.index, asked)
      return { outcome: 'complete', source: source.name }
    }
    if (thrown instanceof SourceRequestError) this.pool.failed(state.index, got, asked, thrown.connectionLost)
    if (signal.aborted || thrown instanceof AbortedError) throw new AbortedError('pull')
    if (thrown instanceof RangeUnsupportedError) {
      state.ranges = false
      log('%s: no usable byte ranges (%s); CAR requests from now on', source.name, thrown.message)
      this.onSourceFailed?.({ source: source.name, reason: `no usable byte ranges (${thrown.message}); using trustless CAR requests with it`, dropped: false })
      return { outcome: 'unsupported', source: source.name }
    }
    if (thrown instanceof SourceRequestError) {
      this.failed(state, attempt, thrown, cid)
      return { outcome: 'failed', source: source.name }
    }
    if (thrown instanceof Error) Object.assign(thrown, { source: source.name })
    throw thrown
  }

  /** A source proved to have sent wrong bytes: dropped for the rest of the pull. */
  blame (sourceName: string, reason: string, cid: CID): void {
    const state = this.stateOf(sourceName)
    if (state == null) return
    const full = `${reason} (block ${cid.toString()})`
    if (!state.health.drop(full)) return
    log('%s dropped: bad data: %s', sourceName, full)
    this.dropped.push({ source: sourceName, reason: full })
    this.onSourceFailed?.({ source: sourceName, reason: full, dropped: true })
  }

  /**
   * The usable source expected to finish `bytes` soonest (source-pool.ts)
   * among those not cooling down and with room in their window; waits for
   * room, or for the first cooldown to end, abortably (or, with `wait`
   * false, gives up). Undefined when no usable source is left.
   */
  private async pick (signal: AbortSignal, usable: (s: SourceState) => boolean, bytes: number, wait = true, fill = false): Promise<SourceState | undefined> {
    while (true) {
      const live = this.states.filter(s => !s.health.dropped && usable(s))
      if (live.length === 0) return undefined
      const now = Date.now()
      const ready = live.filter(s => !s.health.coolingDown(now))
      const chosen = this.pool.choose(ready.map(s => s.index), bytes, fill)
      if (chosen !== undefined) {
        // Reserved before anything awaits: concurrent picks see it in flight (end() releases it).
        this.pool.begin(chosen, bytes)
        const state = this.states[chosen] as SourceState
        if (state !== this.lastPicked) log('using %s', state.source.name)
        this.lastPicked = state
        return state
      }
      if (!wait) return undefined
      const wakeAt = earliestReady(live.map(s => s.health), now)
      if (wakeAt !== undefined && ready.length === 0) log('every source is cooling down; waiting %d ms', wakeAt - now)
      await this.waitForRoom(signal, wakeAt === undefined ? undefined : Math.max(1, wakeAt - now))
    }
  }

  /** Until a request ends (a window has room) or `ms` pass (a cooldown ends); abortable. */
  private async waitForRoom (signal: AbortSignal, ms: number | undefined): Promise<void> {
    if (signal.aborted) throw new AbortedError('pull')
    await new Promise<void>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        this.waiters.delete(done)
        resolve()
      }
      const onAbort = (): void => { done(); reject(new AbortedError('pull')) }
      // Cooldowns end without a request ending: look again at least every second.
      const timer = setTimeout(done, Math.min(ms ?? 1000, 1000))
      this.waiters.add(done)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** The request on a source pick() chose (and reserved in the pool) starts. */
  private begin (state: SourceState): Attempt {
    return state.health.begin()
  }

  private end (state: SourceState, unused: number): void {
    state.health.end()
    this.pool.end(state.index, unused)
    for (const w of [...this.waiters]) w()
  }

  /** The first-byte timeout for the next request to `state`: the source's, doubled per strike, never past its stall timeout. */
  private firstByteMs (state: SourceState): number | undefined {
    const base = state.source.firstByteMs
    if (base === undefined) return undefined
    return Math.min(base * 2 ** state.notAnswering, state.source.stallMs ?? 20_000)
  }

  /** Feeds the bytes range reads received since the last look to the pool (its throughput samples); runs while any read does. */
  private sample (): void {
    if (this.sampler !== undefined) return
    this.sampler = setInterval(() => {
      for (const sink of this.reading.keys()) this.sampleRead(sink)
      if (this.reading.size === 0) { clearInterval(this.sampler); this.sampler = undefined }
    }, SAMPLE_MS / 4)
    this.sampler.unref()
  }

  private sampleRead (sink: LeafSink): void {
    const r = this.reading.get(sink)
    if (r == null) return
    const n = sink.received - r.seen
    r.seen = sink.received
    if (n > 0) this.pool.progress(r.index, n)
  }

  /** Verified bytes from a stream (a throughput sample), or from a block request that took `blockSeconds` (a latency sample). */
  private delivered (state: SourceState, bytes: number, blockSeconds?: number): void {
    state.health.delivered(bytes)
    state.notAnswering = 0
    if (blockSeconds !== undefined) this.pool.block(state.index, bytes, blockSeconds)
    else this.pool.progress(state.index, bytes)
    this.fetchedBytes += bytes
    this.currentSource = state.source.name
  }

  private failed (state: SourceState, attempt: Attempt, err: SourceRequestError, cid: CID): void {
    if (state.health.dropped) return
    const reason = `${err.message} (block ${cid.toString()})`
    const kind = err.permanent ? 'permanent' : 'transient'
    const name = state.source.name
    if (err instanceof SourceNotAnsweringError) { this.notAnswering(state, attempt, err); return }
    const verdict = state.health.failed(attempt, kind, reason, err.retryAfterMs)
    if (verdict.dropped) {
      const why = state.health.dropReason ?? reason
      log('%s dropped (%s): %s', name, err.permanent ? 'permanent failure' : 'transient failures', why)
      this.dropped.push({ source: name, reason: why })
    } else if (err.retryAfterMs !== undefined) {
      log('%s asked to be left alone (Retry-After): resting %d ms, not counted toward dropping it', name, verdict.cooldownMs)
    } else if (verdict.counted) {
      log('%s failed (transient, %d in a row): %s; cooling down %d ms', name, verdict.consecutive, reason, verdict.cooldownMs)
    } else {
      log('%s failed (transient, same incident): %s', name, reason)
    }
    this.onSourceFailed?.({ source: name, reason: verdict.dropped ? (state.health.dropReason ?? reason) : reason, dropped: verdict.dropped })
  }

  /**
   * No connection or no first byte in time. While other sources are usable
   * the source is set aside (5 s, doubling per strike, ≤ 60 s) and the user is
   * told at once, once per strike series; as the only source it is simply
   * retried with the usual backoff (health.ts decides when it is dropped).
   */
  private notAnswering (state: SourceState, attempt: Attempt, err: SourceNotAnsweringError): void {
    const name = state.source.name
    const others = this.states.filter(s => s !== state && !s.health.dropped).map(s => s.source.name)
    const verdict = state.health.failed(attempt, 'transient', err.message)
    if (!verdict.counted && !verdict.dropped) return
    state.notAnswering++
    if (verdict.dropped) {
      const why = state.health.dropReason ?? err.message
      log('%s dropped: %s', name, why)
      this.dropped.push({ source: name, reason: why })
      this.onSourceFailed?.({ source: name, reason: why, dropped: true })
      return
    }
    if (others.length > 0) state.health.setAside(Math.min(SET_ASIDE_MS * 2 ** (state.notAnswering - 1), SET_ASIDE_MAX_MS))
    const reason = others.length > 0 ? `${err.message}; using ${others.join(', ')}` : err.message
    log('%s: %s', name, reason)
    this.onSourceFailed?.({ source: name, reason, dropped: false })
  }
}
