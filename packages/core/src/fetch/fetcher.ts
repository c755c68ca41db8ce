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
import { SourceRequestError, type BlockSource, type VerifiedBlock } from './source.ts'
import { isIdentity, verifyBlock } from './verify.ts'

const MAX_STRIKES = 3

interface SourceState {
  source: BlockSource
  inflight: number
  strikes: number
  dropped: boolean
  bytes: number
}

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
    this.states = sources.map(source => ({ source, inflight: 0, strikes: 0, dropped: false, bytes: 0 }))
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
