/**
 * Gets verified blocks from an ordered list of sources for one pull. A source
 * that sends a bad block (or a non-trustless answer, or 404) is dropped for the
 * rest of the pull at once; transient failures (5xx, resets, stalls) earn a
 * strike and the block is retried elsewhere; three strikes drop the source.
 * Every drop is kept with its reason. Requests go to the first source in order
 * with spare capacity, so a fast local daemon takes most of the work and the
 * next source takes the overflow.
 */
import type { CID } from 'multiformats/cid'
import { AbortedError, AllSourcesFailedError, type SourceFailure } from '../errors.ts'
import type { LeafSink } from './leaf-sink.ts'
import { RangeRequest, RangeUnsupportedError } from './range-client.ts'
import { SourceRequestError, type BlockSource, type VerifiedBlock } from './source.ts'
import { isIdentity, verifyBlock } from '../ipld/verify-block.ts'

const MAX_STRIKES = 3

interface SourceState {
  source: BlockSource
  inflight: number
  strikes: number
  dropped: boolean
  bytes: number
  /** False once the source answered a byte-range request in a way we cannot use (it then gets CAR requests only). */
  ranges: boolean
}

/** How a byte-range read ended; `source` is the one asked. */
export type RangeOutcome =
  | { outcome: 'complete', source: string }
  /** No source can serve byte ranges (any more): use CAR requests. */
  | { outcome: 'unavailable' }
  /** The source answered in a way we cannot use for ranges; it will not be asked for ranges again. */
  | { outcome: 'unsupported', source: string }
  /** The source failed (counted as a strike); what was not received must be fetched again. */
  | { outcome: 'failed', source: string }

export interface BlockFetcherOptions {
  /** Concurrent requests one source gets before the next source is used. */
  perSourceConcurrency?: number
  onSourceFailed?: (failure: SourceFailure & { dropped: boolean }) => void
}

export class BlockFetcher {
  private readonly states: SourceState[]
  private readonly perSource: number
  private readonly onSourceFailed: BlockFetcherOptions['onSourceFailed']
  readonly failures: SourceFailure[] = []
  /** Bytes received from the network (verified blocks only). */
  fetchedBytes = 0
  /** The source that answered most recently. */
  currentSource: string | null = null

  constructor (sources: BlockSource[], opts: BlockFetcherOptions = {}) {
    this.states = sources.map(source => ({ source, inflight: 0, strikes: 0, dropped: false, bytes: 0, ranges: source.rangeBaseUrl != null }))
    this.perSource = opts.perSourceConcurrency ?? 6
    this.onSourceFailed = opts.onSourceFailed
  }

  /** Sources that delivered at least one block, in order. */
  get usedSources (): BlockSource[] {
    return this.states.filter(s => s.bytes > 0).map(s => s.source)
  }

  async get (cid: CID, signal: AbortSignal): Promise<Uint8Array> {
    if (isIdentity(cid)) {
      const bytes = cid.multihash.digest
      verifyBlock(cid, bytes)
      return bytes
    }
    while (true) {
      if (signal.aborted) throw new AbortedError('pull')
      const state = this.pick()
      if (state == null) throw new AllSourcesFailedError(cid.toString(), this.failures)
      state.inflight++
      try {
        const bytes = await state.source.getBlock(cid, { signal })
        state.bytes += bytes.byteLength
        this.fetchedBytes += bytes.byteLength
        this.currentSource = state.source.name
        return bytes
      } catch (err) {
        if (signal.aborted || err instanceof AbortedError) throw new AbortedError('pull')
        if (!(err instanceof SourceRequestError)) throw err
        this.strike(state, err, cid)
      } finally {
        state.inflight--
      }
    }
  }

  /**
   * Streams the blocks of a byte range of `cid` as a CAR from one source,
   * each verified, to `onBlock` (which returns false to stop early). A failing
   * source earns a strike and 'failed' is returned: the caller fetches what is
   * still missing some other way; a stream that ends while `missing()` > 0
   * counts as a failure. Only an abort (or onBlock's own error) throws.
   */
  async stream (cid: CID, range: { from: number, to: number }, signal: AbortSignal, onBlock: (block: VerifiedBlock) => Promise<boolean>, missing: () => number): Promise<'complete' | 'stopped' | 'failed'> {
    if (signal.aborted) throw new AbortedError('pull')
    const state = this.pick()
    if (state == null) return 'failed'
    state.inflight++
    try {
      for await (const block of state.source.carBlocks(cid, { signal, entityBytes: { from: range.from, to: range.to } })) {
        state.bytes += block.bytes.byteLength
        this.fetchedBytes += block.bytes.byteLength
        this.currentSource = state.source.name
        if (!await onBlock(block)) return 'stopped'
      }
      // A stream that ends (even with HTTP 200) without blocks the range needs is a truncated or wrong answer.
      const left = missing()
      if (left > 0) throw new SourceRequestError(`CAR response for ${cid.toString()} bytes ${range.from}-${range.to} ended with ${left} needed block(s) missing`, true)
      return 'complete'
    } catch (err) {
      if (signal.aborted || err instanceof AbortedError) throw new AbortedError('pull')
      if (!(err instanceof SourceRequestError)) throw err
      this.strike(state, err, cid)
      return 'failed'
    } finally {
      state.inflight--
    }
  }

  /**
   * Reads bytes [from, to) of the file `cid` from a source that serves plain
   * byte ranges, into `sink` (which proves every leaf). Source failures are
   * struck and reported as an outcome; an abort or the sink's own error
   * (a leaf that does not prove, a stop) is thrown, with the source's name
   * attached as `source` so the caller can blame it once it knows better.
   */
  async readRange (cid: CID, from: number, to: number, signal: AbortSignal, sink: LeafSink): Promise<RangeOutcome> {
    if (signal.aborted) throw new AbortedError('pull')
    const live = this.states.filter(s => !s.dropped && s.ranges)
    const state = live.find(s => s.inflight < this.perSource) ?? live.sort((a, b) => a.inflight - b.inflight)[0]
    if (state == null) return { outcome: 'unavailable' }
    const source = state.source
    state.inflight++
    this.currentSource = source.name
    const request = new RangeRequest({ baseUrl: source.rangeBaseUrl as string, path: `/ipfs/${cid.toString()}`, from, to, signal, stallMs: source.stallMs ?? 20_000, sink, ca: source.ca })
    sink.onRoom = () => { request.resume() }
    const before = sink.received
    try {
      await request.run()
      return { outcome: 'complete', source: source.name }
    } catch (err) {
      if (signal.aborted || err instanceof AbortedError) throw new AbortedError('pull')
      if (err instanceof RangeUnsupportedError) {
        state.ranges = false
        this.onSourceFailed?.({ source: source.name, reason: `no usable byte ranges (${err.message}); using trustless CAR requests with it`, dropped: false })
        return { outcome: 'unsupported', source: source.name }
      }
      if (err instanceof SourceRequestError) {
        this.strike(state, err, cid)
        return { outcome: 'failed', source: source.name }
      }
      if (err instanceof Error) Object.assign(err, { source: source.name })
      throw err
    } finally {
      state.inflight--
      const got = sink.received - before
      state.bytes += got
      this.fetchedBytes += got
    }
  }

  /** A source proved to have sent wrong bytes: dropped for the rest of the pull. */
  blame (sourceName: string, reason: string, cid: CID): void {
    const state = this.states.find(s => s.source.name === sourceName)
    if (state != null) this.strike(state, new SourceRequestError(reason, true), cid)
  }

  private pick (): SourceState | undefined {
    const live = this.states.filter(s => !s.dropped)
    return live.find(s => s.inflight < this.perSource) ?? live.sort((a, b) => a.inflight - b.inflight)[0]
  }

  private strike (state: SourceState, err: SourceRequestError, cid: CID): void {
    if (state.dropped) return
    state.strikes++
    const dropped = err.permanent || state.strikes >= MAX_STRIKES
    const reason = `${err.message} (block ${cid.toString()})`
    if (dropped) {
      state.dropped = true
      this.failures.push({ source: state.source.name, reason })
    }
    this.onSourceFailed?.({ source: state.source.name, reason, dropped })
  }
}
