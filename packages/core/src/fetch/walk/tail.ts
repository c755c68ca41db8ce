/**
 * The tail of a multi-source pull: once no piece is left unstarted and a
 * source sits idle, the slowest running read is reshaped so the pull never
 * crawls at 90–99%.
 *
 * - Work stealing: a read with at least 2 leaves still to come is cut at the
 *   middle of what it has left (LeafSink.truncate: its request ends there)
 *   and the back half is queued as a new piece, best on another source.
 * - Hedging: a read that cannot be split (its last leaf) and is expected to
 *   take over HEDGE_AFTER_S more is asked of a second source as well; both
 *   share claims, the first proved copy of each leaf is stored, and the read
 *   left with nothing to do is cancelled. Each read is hedged once.
 *
 * Looked at every TICK_MS and whenever a read ends. Only reads that take over
 * MIN_TAIL_S more are touched: a split costs a request (an RTT).
 */
import type { LeafSink } from '../leaf-sink.ts'
import type { BlockFetcher } from '../fetcher.ts'
import { logger } from '../../log.ts'
import type { Task, TaskOf } from './tasks.ts'

const log = logger('fetch')

const TICK_MS = 250
/** Reads expected to end sooner than this are left alone. */
const MIN_TAIL_S = 0.5
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

  /** Seconds a running read is expected to take for what it has left: by its source's measured rate, else by its own so far. */
  private eta (sink: LeafSink): number {
    const left = sink.unreceived
    const rate = this.fetcher.rateOf(sink.source)
    if (rate !== undefined && rate > 0) return left / rate
    const elapsed = (Date.now() - sink.startedAt) / 1000
    return sink.received > 0 ? left / (sink.received / elapsed) : elapsed
  }

  rebalance (): void {
    if (this.unstarted > 0 || this.fetcher.rangeSources < 2) return
    let slowest: { r: ActiveRead, eta: number } | undefined
    for (const r of this.reads) {
      if (r.sink.source === undefined) return // a read still waiting for a source will take the idle one
      if (r.task.hedgeOf != null || this.hedged.has(r.sink)) continue
      const eta = this.eta(r.sink)
      if (eta > MIN_TAIL_S && (slowest === undefined || eta > slowest.eta)) slowest = { r, eta }
    }
    if (slowest === undefined) return
    const { r, eta } = slowest
    const idle = this.fetcher.idleRangeSource(r.sink.source)
    if (idle === undefined) return
    const left = r.sink.remaining.length - (r.sink.received > 0 ? 1 : 0)
    if (left >= 2) {
      const taken = r.sink.truncate(Math.ceil(r.sink.remaining.length / 2))
      if (taken.length === 0) return
      this.fetcher.tail.steals++
      log('tail: %d leaves from %s (%s s to go) stolen for another source', taken.length, r.sink.source, eta.toFixed(1))
      this.push([{ ...r.task, leaves: taken, attempt: 0, avoid: r.sink.source }])
      return
    }
    if (eta < HEDGE_AFTER_S) return
    const idleEta = this.fetcher.expectedSeconds(idle, r.sink.unreceived)
    if (idleEta > eta / 2) return
    this.hedged.add(r.sink)
    this.fetcher.tail.hedges++
    log('tail: last leaves of a read from %s (%s s to go) hedged on %s', r.sink.source, eta.toFixed(1), idle)
    this.push([{ ...r.task, leaves: r.sink.remaining, attempt: 0, avoid: r.sink.source, hedgeOf: r.sink }])
  }
}
