/**
 * Which source gets the next request, and how many each may have in flight:
 * the scheduling policy of a multi-source pull, kept apart from the I/O so its
 * rules can be tested with a fake clock (test/source-pool.spec.ts).
 *
 * Choice: every request (a byte range, a CAR range, a block) goes to the
 * source expected to finish it soonest: its latency (a block request's time,
 * EWMA) plus (bytes it still owes + this request's bytes) / its capacity (its
 * measured throughput per request × its window). Throughput is measured from byte ranges and CAR streams only: a
 * block of a few KiB measures the round trip, not the bandwidth (one 8 KiB
 * root taking 130 ms read as 60 KB/s and kept a 60 MB/s gateway out of the
 * first second of a WAN pull). A source whose latency is not known yet is
 * taken to be as quick as the quickest known, and one not yet measured as
 * having no bandwidth cost, so each source is asked early and gets measured;
 * the configured order (local daemon first, or gateways first with
 * use_external_by_default) decides among equals (within 10%) and so decides
 * the first asks. A source whose throughput per request in flight is under
 * 1/8 of the best source's is held to one request at a time: it still helps,
 * it never holds many pieces. (Per request, not in total: a source held to one
 * request could never show its total would grow with more.)
 *
 * Parallelism per source: a window of requests in flight starts at 2 (4 for
 * a gateway, GATEWAY_INITIAL_WINDOW: a WAN pull of 256 MiB lasts ~4 s, and
 * its first second at 2 each cost the bench ~8%); every
 * SAMPLE_MS the throughput is sampled. First a slow start: while the window
 * is full it doubles, kept while the throughput rose by ≥ 5% (PROBE_GAIN) within two
 * samples; the first doubling that does not help steps back to the window
 * before it and ends the slow start (a 200 ms-RTT gateway capped at 5 MB/s
 * per connection needs 4 in flight, reached after 1 s instead of 3 s at +1
 * per probe; the WAN bench's pull lasts ~3–5 s). Then additive increase,
 * multiplicative decrease: while full it probes one more request, keeps it
 * when the throughput rose by ≥ 5% within two samples, else steps back and
 * holds for HOLD_SAMPLES (4 s). A failure with nothing delivered halves the
 * window (at least 1); a reset or a closed connection leaves it alone,
 * before or after bytes arrived (the source is alive; a reset is not a rate
 * problem).
 * Caps per kind: the local daemon 16, the user's own gateways 8, public
 * gateways 4 (they rate-limit); a source may bring its own (`maxInFlight`).
 *
 * Response size: a source whose responses end early twice at about the same
 * size (±20%: it cuts every response after N bytes; random resets do not
 * look like that) is given requests of 3/4 of that size; four successes in a
 * row at that size try 25% more.
 */

/** Throughput samples are taken this often while a source is busy. */
export const SAMPLE_MS = 500
/** Window growth is judged this many samples after a probe. */
const JUDGE_SAMPLES = 2
/** A probe whose window does not fill within this many samples (too little work, or the pull's read cap) is kept unjudged. */
const PATIENCE_SAMPLES = 4
/**
 * Full samples at the first window before the first probe. Judged from the
 * first sample, every doubling "helped" (the first half second of a WAN pull
 * is handshakes and first bytes, the next is at speed): a 60 MB/s gateway at
 * its cap with 4 requests went to 8, a 40 MB/s one to 8, and together they
 * held all 16 read slots while a third gateway with room sat idle.
 */
const WARMUP_SAMPLES = 1
/** After a probe that did not help, or a failure, the window holds this many samples. */
const HOLD_SAMPLES = 8
const INITIAL_WINDOW = 2
/** Weight of a new sample in the throughput EWMA. */
const EWMA_WEIGHT = 0.4
/** A source slower per request than this share of the fastest per request is held to one request. */
const SLOW_SHARE = 1 / 8
/**
 * A probe is kept when the throughput rose by at least this share. One more
 * request on a 4-request window adds at most a quarter; on an 80 ms gateway
 * capped at 10 MB/s per connection the fifth covered the round-trip gaps of
 * the other four, +8% (37 → 40 MB/s), which a 10% bar refused.
 */
const PROBE_GAIN = 0.05
/** Expected finishes within this factor are equal: the configured order decides. */
const TIE = 1.1

export type SourceTier = 'daemon' | 'own' | 'public'
export const TIER_CAPS: Record<SourceTier, number> = { daemon: 16, own: 8, public: 4 }
/** First window of a gateway (within its cap): a public one's whole cap, half an own one's. */
export const GATEWAY_INITIAL_WINDOW = 4

export interface PoolClock { now: () => number }

class Lane {
  readonly order: number
  readonly cap: number
  window: number
  inflight = 0
  /** Bytes of requests in flight not yet delivered. */
  owed = 0
  /** EWMA of delivered bytes/s over the whole source; undefined until measured. */
  rate: number | undefined
  /** Delivered bytes/s per request in flight, at the last sample. */
  perRequest: number | undefined
  bytes = 0
  /** EWMA of a block request's seconds (a round trip plus the server's answer); undefined until one ends. */
  latency: number | undefined
  /** A sample has included bytes of a byte range or a CAR stream: `rate` measures bandwidth. */
  streamed = false
  private sampleStreamed = false
  private sampleBytes = 0
  private sampleStart = 0
  private sampleMaxInflight = 0
  private judgeIn = 0
  /** Samples a probe may wait for its window to fill before it is kept unjudged. */
  private patience = 0
  private judgedBytesPerS = 0
  private rateBeforeProbe = 0
  /** The last sample's own rate (not the EWMA, which lags a step by several samples and would pass every probe). */
  private lastRaw = 0
  private hold = 0
  /** Doubling the window while it helps (see the module note); off after the first doubling that did not. */
  private slowStart = true
  /** Samples left before the first probe: the first ones measure connections being opened and answers starting, not the window. */
  private warmup = WARMUP_SAMPLES
  private windowBeforeProbe = 0
  responseCap: number | undefined
  private successesAtCap = 0
  /** Bytes the last cut-short answer delivered: two alike (±20%) mean the source cuts answers at a size. */
  private lastCut: number | undefined

  constructor (order: number, cap: number, initial = INITIAL_WINDOW) {
    this.order = order
    this.cap = Math.max(1, cap)
    this.window = Math.max(1, Math.min(initial, this.cap))
  }

  begin (bytes: number, now: number): void {
    if (this.inflight === 0) { this.sampleStart = now; this.sampleBytes = 0; this.sampleMaxInflight = 0 }
    this.inflight++
    this.owed += bytes
    this.sampleMaxInflight = Math.max(this.sampleMaxInflight, this.inflight)
  }

  progress (bytes: number, now: number, stream = true): void {
    this.bytes += bytes
    this.sampleBytes += bytes
    if (stream) this.sampleStreamed = true
    const dt = now - this.sampleStart
    if (dt >= SAMPLE_MS) this.sample(dt, now)
  }

  /**
   * Bytes/s this source delivers with its window full: its throughput per
   * request × its window (at least what it delivered). Not its recent total:
   * that falls whenever it is given less, so a source passed over once looked
   * slower and was passed over again (a 20 MB/s gateway with room for 4
   * requests got 3 MB/s for the last 6 s of a 1 GiB WAN pull).
   */
  capacity (): number {
    const rate = this.rate ?? 0
    return this.perRequest === undefined ? rate : Math.max(rate, this.perRequest * this.window)
  }

  /** A block request delivered `bytes` in `seconds`: a latency sample (its bytes still drive the window's samples). */
  block (bytes: number, seconds: number, now: number): void {
    this.latency = this.latency === undefined ? seconds : this.latency * (1 - EWMA_WEIGHT) + seconds * EWMA_WEIGHT
    this.owed = Math.max(0, this.owed - bytes)
    this.progress(bytes, now, false)
  }

  end (unused: number, now: number): void {
    this.inflight = Math.max(0, this.inflight - 1)
    this.owed = Math.max(0, this.owed - unused)
    // A short burst that ends before a sample still measures an unmeasured source.
    if (this.inflight === 0 && this.sampleBytes > 0 && (this.rate === undefined || now - this.sampleStart >= SAMPLE_MS / 2)) this.sample(Math.max(1, now - this.sampleStart), now)
  }

  private sample (dt: number, now: number): void {
    const r = this.sampleBytes / (dt / 1000)
    // The first sample with stream bytes replaces what blocks alone measured (round trips, not bandwidth).
    const first = this.sampleStreamed && !this.streamed
    this.rate = this.rate === undefined || first ? r : this.rate * (1 - EWMA_WEIGHT) + r * EWMA_WEIGHT
    if (this.sampleStreamed) this.streamed = true
    this.sampleStreamed = false
    this.perRequest = this.rate / Math.max(1, this.sampleMaxInflight)
    const full = this.sampleMaxInflight >= this.window
    this.sampleStart = now
    this.sampleBytes = 0
    this.sampleMaxInflight = this.inflight
    this.lastRaw = r
    this.adapt(full)
  }

  private adapt (full: boolean): void {
    if (this.judgeIn > 0) {
      // Only samples that used the larger window are evidence; one that never fills is kept unjudged.
      if (!full) {
        if (--this.patience <= 0) this.judgeIn = 0
        return
      }
      this.judgedBytesPerS += this.lastRaw
      if (--this.judgeIn > 0) return
      if (this.judgedBytesPerS / JUDGE_SAMPLES < this.rateBeforeProbe * (1 + PROBE_GAIN)) {
        this.window = Math.max(1, this.slowStart ? this.windowBeforeProbe : this.window - 1)
        this.slowStart = false
        this.hold = HOLD_SAMPLES
        return
      }
    }
    if (this.hold > 0) { this.hold--; return }
    if (this.warmup > 0) { if (full) this.warmup--; return }
    if (!full || this.window >= this.cap) return
    this.rateBeforeProbe = this.lastRaw
    this.judgedBytesPerS = 0
    this.patience = PATIENCE_SAMPLES
    this.windowBeforeProbe = this.window
    this.window = this.slowStart ? Math.min(this.cap, this.window * 2) : this.window + 1
    this.judgeIn = JUDGE_SAMPLES
  }

  failed (delivered: number, asked: number, connectionLost: boolean): void {
    this.successesAtCap = 0
    // A reset or cut (before or after bytes arrived): the source is alive and as fast as it was; only a
    // failure with nothing delivered that is not a lost connection (5xx, a stall, no answer) means too much asked.
    // (A gateway resetting a third of its connections had its window halved 4 → 1 by four block resets in its
    // first second and held there: 22 MB/s of its 60 on the WAN bench.)
    if (delivered === 0 && !connectionLost) {
      this.window = Math.max(1, Math.floor(this.window / 2))
      this.judgeIn = 0
      this.hold = HOLD_SAMPLES
      this.slowStart = false
    }
    // Cut short after delivering part of it: answers of about that size get through.
    if (delivered > 0 && delivered < asked) {
      const prev = this.lastCut
      this.lastCut = delivered
      if (prev !== undefined && Math.abs(delivered - prev) <= prev * 0.2) {
        const cap = Math.floor(Math.min(delivered, prev) * 0.75)
        this.responseCap = Math.min(this.responseCap ?? cap, cap)
      }
    }
  }

  succeeded (asked: number): void {
    if (this.responseCap === undefined || asked < this.responseCap * 0.9) return
    if (++this.successesAtCap >= 4) { this.responseCap = Math.floor(this.responseCap * 1.25); this.successesAtCap = 0 }
  }
}

export class SourcePool {
  private readonly lanes: Lane[]
  private readonly clock: PoolClock

  /** One lane per source, in the configured order, with its cap of requests in flight (and its first window, default 2). */
  constructor (caps: number[], clock: PoolClock = { now: () => Date.now() }, initial: number[] = []) {
    this.lanes = caps.map((cap, i) => new Lane(i, cap, initial[i]))
    this.clock = clock
  }

  private lane (i: number): Lane { return this.lanes[i] as Lane }

  /** Requests source `i` may have in flight now: its window, or 1 while it is far slower per request than the fastest. */
  allowed (i: number): number {
    const l = this.lane(i)
    const best = Math.max(0, ...this.lanes.map(x => (x.streamed ? x.perRequest ?? 0 : 0)))
    if (l.streamed && l.perRequest !== undefined && best > 0 && l.perRequest < best * SLOW_SHARE) return 1
    return l.window
  }

  hasRoom (i: number): boolean { return this.lane(i).inflight < this.allowed(i) }

  /**
   * Seconds source `i` is expected to take to deliver `bytes` more after what
   * it owes: its latency (the quickest known while its own is unknown) plus
   * the bytes over its throughput (nothing while that is unmeasured).
   */
  expectedSeconds (i: number, bytes: number): number {
    const l = this.lane(i)
    const latency = l.latency ?? this.quickestLatency()
    if (!l.streamed || l.rate === undefined || l.rate <= 0) return latency
    return latency + (l.owed + bytes) / l.capacity()
  }

  private quickestLatency (): number {
    let best: number | undefined
    for (const l of this.lanes) if (l.latency !== undefined && (best === undefined || l.latency < best)) best = l.latency
    return best ?? 0
  }

  /**
   * Of `candidates` (source indexes that may be asked now), the one with room
   * expected to finish `bytes` soonest; ties (within 10%) to the earlier in
   * order. With `fill` (plenty of work still queued) only the sources whose
   * windows are the least used compete: picking the soonest finish for each
   * piece kept giving them to the fast sources, whose requests end often,
   * and a slow one with room for 4 had 1–2 for most of a 1 GiB WAN pull (the
   * tail, where the soonest finish matters, asks without `fill`). Undefined
   * when none has room.
   */
  choose (candidates: number[], bytes: number, fill = false): number | undefined {
    let open = candidates.filter(i => this.hasRoom(i))
    if (open.length === 0) return undefined
    if (fill) {
      // Bulk of a pull: each source with room adds throughput, so the emptiest window (share of it in use) is filled first.
      const use = (i: number): number => this.lane(i).inflight / this.allowed(i)
      const least = Math.min(...open.map(use))
      open = open.filter(i => use(i) <= least + 1e-9)
    }
    const est = new Map(open.map(i => [i, this.expectedSeconds(i, bytes)]))
    const best = Math.min(...est.values())
    return open.sort((a, b) => a - b).find(i => (est.get(i) as number) <= best * TIE + 1e-9)
  }

  begin (i: number, bytes: number): void { this.lane(i).begin(bytes, this.clock.now()) }
  /** Verified bytes from source `i`, as they arrive. */
  progress (i: number, bytes: number): void {
    const l = this.lane(i)
    l.owed = Math.max(0, l.owed - bytes)
    l.progress(bytes, this.clock.now())
  }

  /** A block request to source `i` delivered `bytes` in `seconds` (measures its latency; throughput comes from ranges and streams). */
  block (i: number, bytes: number, seconds: number): void { this.lane(i).block(bytes, seconds, this.clock.now()) }

  /** A request ended; `unused` is what it was expected to bring and did not. */
  end (i: number, unused: number): void { this.lane(i).end(unused, this.clock.now()) }
  /** A request to source `i` failed after `delivered` of `asked` bytes; `connectionLost`: reset or closed under it (not a load signal). */
  failed (i: number, delivered: number, asked: number, connectionLost = false): void { this.lane(i).failed(delivered, asked, connectionLost) }
  succeeded (i: number, asked: number): void { this.lane(i).succeeded(asked) }

  /** Largest response source `i` is expected to deliver whole (learned from cut-short answers), if any. */
  responseCap (i: number): number | undefined { return this.lane(i).responseCap }
  window (i: number): number { return this.lane(i).window }
  /** Measured bandwidth of source `i` (bytes/s; undefined until a range or CAR stream measured it). */
  rate (i: number): number | undefined { const l = this.lane(i); return l.streamed ? l.rate : undefined }
  latency (i: number): number | undefined { return this.lane(i).latency }
  inflight (i: number): number { return this.lane(i).inflight }
}
