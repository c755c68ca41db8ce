/**
 * The tail of a multi-source pull: once no piece is left unstarted and a
 * source sits idle, the slowest running read is reshaped so the pull never
 * crawls at 90–99%.
 *
 * - Work stealing: a read with at least 2 leaves still to come is cut (its
 *   request ends there, LeafSink.truncate) and its back part is queued as a
 *   new piece for a source with room: cut so both are expected to end
 *   together (each side's throughput per request, the spare source's
 *   latency first), at least a quarter and at most three quarters of it.
 * - Hedging: a read that cannot be split (its last leaf) and is expected to
 *   take over HEDGE_AFTER_S more is asked of a second source as well; both
 *   share claims, the first proved copy of each leaf is stored, and the read
 *   left with nothing to do is cancelled. Each read is hedged once.
 *
 * A read's time to go is what it has left over its source's throughput per
 * request in flight (a source's whole rate would make each of its parallel
 * reads look N times quicker than it is; measured on the WAN bench, 4 MiB
 * left on a 40 MB/s gateway with 4 reads read as 0.1 s, 0.4 s in fact, and
 * nothing was ever stolen while the fastest gateway sat idle for 0.5 s).
 * Looked at every TICK_MS and whenever a read ends; one change per look, and
 * none while a piece it queued has not started. Only reads that take over
 * MIN_TAIL_S more are touched: a split costs a request (an RTT).
 */
import type { LeafSink } from '../leaf-sink.ts'
import type { BlockFetcher } from '../fetcher.ts'
import { logger } from '../../log.ts'
import type { Task, TaskOf } from './tasks.ts'

const log = logger('fetch')

const TICK_MS = 100
/** Reads expected to end sooner than this are left alone. */
const MIN_TAIL_S = 0.3
/** A read's last leaf taking longer than this is hedged. */
const HEDGE_AFTER_S = 1

interface ActiveRead { task: TaskOf<'leaves'>, sink: LeafSink }

export class Tail {
  private readonly fetcher: BlockFetcher
  private readonly push: (tasks: Task[]) => void
  private readonly reads = new Set<ActiveRead>()
  private readonly hedged = new WeakSet<LeafSink>()
  /** Pieces queued or waiting for a read slot or a source: not started yet. */
  unstarted = 0
  private timer: NodeJS.Timeout | undefined

  constructor (fetcher: BlockFetcher, push: (tasks: Task[]) => void) {
    this.fetcher = fetcher
    this.push = push
  }

  start (): void {
    this.timer = setInterval(() => { this.rebalance() }, TICK_MS)
    this.timer.unref()
  }

  stop (): void { clearInterval(this.timer) }

  /** A read holds its slot and buffers (it may still wait for a source). */
  add (task: TaskOf<'leaves'>, sink: LeafSink): ActiveRead {
    const r = { task, sink }
    this.reads.add(r)
    return r
  }

  remove (r: ActiveRead): void {
    this.reads.delete(r)
    this.rebalance()
  }

  /** Seconds a running read is expected to take for what it has left: by its source's throughput per read, else by its own so far. */
  private eta (sink: LeafSink): number {
    const left = sink.unreceived
    const rate = this.fetcher.perRequestRateOf(sink.source)
    if (rate !== undefined && rate > 0) return left / rate
    const elapsed = (Date.now() - sink.startedAt) / 1000
    return sink.received > 0 ? left / (sink.received / elapsed) : elapsed
  }

  rebalance (): void {
    if (this.unstarted > 0 || this.fetcher.rangeSources < 2) return
    let slowest: { r: ActiveRead, eta: number } | undefined
    for (const r of this.reads) {
      if (r.sink.source === undefined) return // a read still waiting for a source will take the spare one
      if (r.task.hedgeOf != null || this.hedged.has(r.sink)) continue
      const eta = this.eta(r.sink)
      if (eta > MIN_TAIL_S && (slowest === undefined || eta > slowest.eta)) slowest = { r, eta }
    }
    if (slowest === undefined) return
    const { r, eta } = slowest
    const spare = this.fetcher.spareRangeSource(r.sink.source)
    if (spare === undefined) return
    const remaining = r.sink.remaining
    const left = remaining.length - (r.sink.received > 0 ? 1 : 0)
    if (left >= 2) {
      const share = this.stealShare(r.sink, spare, eta)
      if (share === 0) return
      const keep = Math.ceil(remaining.length * (1 - share))
      const taken = r.sink.truncate(keep)
      if (taken.length === 0) return
      this.fetcher.tail.steals++
      log('tail: %d of %d leaves from %s (%s s to go) stolen for %s', taken.length, remaining.length, r.sink.source, eta.toFixed(1), spare)
      this.push([{ ...r.task, leaves: taken, attempt: 0, avoid: r.sink.source }])
      return
    }
    if (eta < HEDGE_AFTER_S) return
    const spareEta = this.fetcher.expectedSeconds(spare, r.sink.unreceived)
    if (spareEta > eta / 2) return
    this.hedged.add(r.sink)
    this.fetcher.tail.hedges++
    log('tail: last leaves of a read from %s (%s s to go) hedged on %s', r.sink.source, eta.toFixed(1), spare)
    this.push([{ ...r.task, leaves: r.sink.remaining, attempt: 0, avoid: r.sink.source, hedgeOf: r.sink }])
  }

  /**
   * The share of a read's rest to give `spare` so both end together: with x
   * of `left` bytes taken, (1-x)·left/r1 = latency + x·left/r2, r1 and r2 the
   * two sides' throughput per request. A half while `spare` is unmeasured;
   * at most 3/4; 0 (leave it) when under a tenth, where `spare` would not end sooner.
   */
  private stealShare (sink: LeafSink, spare: string, eta: number): number {
    const r2 = this.fetcher.perRequestRateOf(spare, 1)
    if (r2 === undefined || r2 <= 0 || eta <= 0) return 0.5
    const left = sink.unreceived
    const r1 = left / eta
    const latency = this.fetcher.latencyOf(spare) ?? 0
    const x = (left / r1 - latency) / (left / r1 + left / r2)
    return x < 0.1 ? 0 : Math.min(0.75, x)
  }
}
