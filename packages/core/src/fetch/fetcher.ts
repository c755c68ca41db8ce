/**
 * Gets verified blocks from an ordered list of sources for one pull. Requests
 * go to the first source in order with spare capacity, so a fast local daemon
 * takes most of the work and the next source takes the overflow.
 *
 * When to ask a source again is net/health.ts's call: a source that sends a
 * bad block (or a non-trustless answer, or 404) is dropped for the rest of the
 * pull at once; after a transient failure (5xx, a reset, a stall) the work is
 * retried elsewhere and the source cools down for a backoff delay; it is
 * dropped only after failing round after round without delivering a byte.
 * When every live source is cooling down, requests wait for the first to be
 * ready (abortably) instead of failing. Every drop is kept with its reason.
 */
import { formatBytes } from '@citrate-ipfs/contract'
import type { CID } from 'multiformats/cid'
import { AbortedError, AllSourcesFailedError, type SourceFailure } from '../errors.ts'
import { logger } from '../log.ts'
import { sleep } from '../net/backoff.ts'
import { earliestReady, SourceHealth, type Attempt, type HealthPolicy, type SourceStats } from '../net/health.ts'
import type { DownloadLimiter } from '../net/rate-limit.ts'
import type { LeafSink } from './leaf-sink.ts'
import { RangeRequest, RangeUnsupportedError } from './range-client.ts'
import { SourceRequestError, type BlockSource, type VerifiedBlock } from './source.ts'
import { isIdentity, verifyBlock } from '../ipld/verify-block.ts'

const log = logger('fetch')

interface SourceState {
  source: BlockSource
  health: SourceHealth
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

export interface BlockFetcherOptions {
  /** Concurrent requests one source gets before the next source is used. */
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
  private readonly perSource: number
  private readonly onSourceFailed: BlockFetcherOptions['onSourceFailed']
  private readonly limiter: DownloadLimiter | undefined
  private readonly dropped: SourceFailure[] = []
  private lastPicked: SourceState | undefined
  /** Bytes received from the network (verified blocks only). */
  fetchedBytes = 0
  /** The source that answered most recently. */
  currentSource: string | null = null

  constructor (sources: BlockSource[], opts: BlockFetcherOptions = {}) {
    this.states = sources.map(source => ({
      source,
      health: new SourceHealth({ ...opts.retry, ...source.retry }),
      ranges: source.rangeBaseUrl != null,
      live: new Set()
    }))
    this.perSource = opts.perSourceConcurrency ?? 6
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

  /** Writes sourceStats to the `citrate:fetch` debug log (call once a pull ends). */
  logStats (): void {
    if (!log.enabled) return
    for (const s of this.sourceStats) {
      log('%s: %d bytes in %d requests, %s/s while busy (%d ms), %d failure(s)%s', s.source, s.bytes, s.requests,
        formatBytes(s.bytesPerSecond), s.busyMs, s.failures, s.dropped ? `, dropped: ${s.dropReason ?? ''}` : '')
    }
  }

  async get (cid: CID, signal: AbortSignal): Promise<Uint8Array> {
    if (isIdentity(cid)) {
      const bytes = cid.multihash.digest
      verifyBlock(cid, bytes)
      return bytes
    }
    while (true) {
      if (signal.aborted) throw new AbortedError('pull')
      const state = await this.pick(signal, () => true)
      if (state == null) {
        this.logStats()
        throw new AllSourcesFailedError(cid.toString(), this.failures)
      }
      const attempt = state.health.begin()
      try {
        const bytes = await state.source.getBlock(cid, { signal, limiter: this.limiter })
        this.delivered(state, bytes.byteLength)
        return bytes
      } catch (err) {
        if (signal.aborted || err instanceof AbortedError) throw new AbortedError('pull')
        if (!(err instanceof SourceRequestError)) throw err
        this.failed(state, attempt, err, cid)
      } finally {
        state.health.end()
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
    const state = await this.pick(signal, () => true)
    if (state == null) return 'failed'
    log('CAR %s bytes %d-%d from %s', cid, range.from, range.to, state.source.name)
    const attempt = state.health.begin()
    try {
      for await (const block of state.source.carBlocks(cid, { signal, limiter: this.limiter, entityBytes: { from: range.from, to: range.to } })) {
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
      this.failed(state, attempt, err, cid)
      return 'failed'
    } finally {
      state.health.end()
    }
  }

  /**
   * Reads bytes [from, to) of the file `cid` from a source that serves plain
   * byte ranges, into `sink` (which proves every leaf). Source failures are
   * recorded and reported as an outcome; an abort or the sink's own error
   * (a leaf that does not prove, a stop) is thrown, with the source's name
   * attached as `source` so the caller can blame it once it knows better.
   */
  async readRange (cid: CID, from: number, to: number, signal: AbortSignal, sink: LeafSink): Promise<RangeOutcome> {
    if (signal.aborted) throw new AbortedError('pull')
    const state = await this.pick(signal, s => s.ranges)
    if (state == null) return { outcome: 'unavailable' }
    const source = state.source
    log('range %s bytes %d-%d from %s', cid, from, to - 1, source.name)
    this.currentSource = source.name
    const request = new RangeRequest({ baseUrl: source.rangeBaseUrl as string, path: `/ipfs/${cid.toString()}`, from, to, signal, stallMs: source.stallMs ?? 20_000, sink, ca: source.ca, limiter: this.limiter })
    sink.onRoom = () => { request.resume() }
    const before = sink.received
    const attempt = state.health.begin()
    const live = (): number => sink.received - before
    state.live.add(live)
    let thrown: unknown
    try {
      await request.run()
    } catch (err) {
      thrown = err
    } finally {
      state.live.delete(live)
      state.health.end()
    }
    // What arrived counts before how it ended: a source that delivered and then failed is alive.
    const got = sink.received - before
    this.fetchedBytes += got
    if (got > 0) state.health.delivered(got)
    if (thrown === undefined) return { outcome: 'complete', source: source.name }
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
    const state = this.states.find(s => s.source.name === sourceName)
    if (state == null) return
    const full = `${reason} (block ${cid.toString()})`
    if (!state.health.drop(full)) return
    log('%s dropped: bad data: %s', sourceName, full)
    this.dropped.push({ source: sourceName, reason: full })
    this.onSourceFailed?.({ source: sourceName, reason: full, dropped: true })
  }

  /**
   * The first live source in order that is not cooling down and has spare
   * capacity (else the least busy ready one); when every live source is
   * cooling down, waits for the first to be ready. Undefined when none is left.
   */
  private async pick (signal: AbortSignal, usable: (s: SourceState) => boolean): Promise<SourceState | undefined> {
    while (true) {
      const live = this.states.filter(s => !s.health.dropped && usable(s))
      if (live.length === 0) return undefined
      const now = Date.now()
      const wakeAt = earliestReady(live.map(s => s.health), now)
      if (wakeAt === undefined) {
        const ready = live.filter(s => !s.health.coolingDown(now))
        const state = ready.find(s => s.health.inflight < this.perSource) ?? ready.sort((a, b) => a.health.inflight - b.health.inflight)[0] as SourceState
        if (state !== this.lastPicked) log('using %s', state.source.name)
        this.lastPicked = state
        return state
      }
      log('every source is cooling down; waiting %d ms', wakeAt - now)
      try {
        await sleep(wakeAt - now, signal)
      } catch {
        throw new AbortedError('pull')
      }
    }
  }

  private delivered (state: SourceState, bytes: number): void {
    state.health.delivered(bytes)
    this.fetchedBytes += bytes
    this.currentSource = state.source.name
  }

  private failed (state: SourceState, attempt: Attempt, err: SourceRequestError, cid: CID): void {
    if (state.health.dropped) return
    const reason = `${err.message} (block ${cid.toString()})`
    const kind = err.permanent ? 'permanent' : 'transient'
    const verdict = state.health.failed(attempt, kind, reason, err.retryAfterMs)
    const name = state.source.name
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
}
