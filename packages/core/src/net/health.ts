/**
 * Per-source health for one pull: when to ask a source again, and when to
 * stop asking it.
 *
 * - Bad data (or any permanent failure, classify.ts) drops the source at once.
 * - A transient failure puts it in a cooldown of one backoff delay
 *   (backoff.ts) before it is asked again, and counts one failure in a row.
 * - Any delivery (verified bytes) resets the count: a source that delivers
 *   between its failures is kept, however many it has over a long pull.
 * - `maxConsecutiveFailures` (default 5) failures in a row, with no delivery
 *   between them, drop it. Each of those is a separate round: failures of
 *   requests already in flight when a failure was counted belong to the same
 *   incident (one outage fails all six parallel requests at once) and do not
 *   count again. So a source is dropped for transient failures only after it
 *   was asked again five times, after cooldowns of up to 0.25, 0.5, 1 and 2 s,
 *   and failed every time without sending a byte.
 *
 * - A `429`/`503` with `Retry-After` (classify.ts's retryAfterMs) rests the
 *   source for max(backoff, the time it names, at most 5 min) and is not
 *   counted: the server is alive and said when to come back, so a rate-limited
 *   public gateway is rested, never dropped for it.
 *
 * Why consecutive rounds and not a failure ratio over a window: a pull has
 * bursts (many requests at once, then a long byte-range read), so a ratio
 * needs a window and a minimum count tuned to the request mix; "asked again
 * after a rest and still nothing" means the same for one request or thousands.
 */
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts'
import type { FailureClass } from './classify.ts'

export interface HealthPolicy {
  /** Transient failures in a row (separate rounds, no delivery between) that drop a source. Default 5. */
  maxConsecutiveFailures?: number
  /** Cooldowns after transient failures. Default: base 250 ms, cap 10 s. */
  backoff?: BackoffOptions
}

export const DEFAULT_HEALTH_POLICY = { maxConsecutiveFailures: 5, backoff: DEFAULT_BACKOFF }

export interface HealthClock {
  now: () => number
  random: () => number
}

const systemClock: HealthClock = { now: () => Date.now(), random: Math.random }

/** One request to the source, from `begin()` to `end()`. */
export interface Attempt { readonly round: number, readonly startedAt: number }

/** What a failure did to the source. */
export interface Verdict {
  /** Dropped by this failure (false if it already was, or is kept). */
  dropped: boolean
  /** Counted as a new failure in a row (false: part of an incident already counted, or permanent). */
  counted: boolean
  /** Failures in a row now. */
  consecutive: number
  /** The cooldown this failure started, ms (0 when none). */
  cooldownMs: number
}

export interface SourceStats {
  /** Verified bytes delivered. */
  bytes: number
  requests: number
  failures: number
  /** Time with at least one request in flight, ms: the throughput's denominator. */
  busyMs: number
  /** bytes / busy time; 0 before any delivery. */
  bytesPerSecond: number
  dropped: boolean
  dropReason: string | undefined
  /** Failures in a row since the last delivery. */
  consecutiveFailures: number
  /** The last failure's reason, when none was delivered after it. */
  lastFailure: string | undefined
  /** Dropped; resting after a failure (cooling down, Retry-After included); else active. */
  state: 'active' | 'cooling' | 'dropped'
  /** How much longer it rests, ms (0 unless cooling). */
  cooldownMs: number
}

export class SourceHealth {
  private readonly max: number
  private readonly backoff: BackoffOptions
  private readonly clock: HealthClock
  inflight = 0
  /** Bumped by each counted failure; attempts begun before it are the same incident. */
  private round = 0
  private consecutive = 0
  private cooldownUntil = 0
  private droppedFor: string | undefined
  private lastFailure: string | undefined
  private bytes = 0
  private requests = 0
  private failures = 0
  private busyMs = 0
  private busySince = 0

  constructor (policy: HealthPolicy = {}, clock: HealthClock = systemClock) {
    this.max = Math.max(1, policy.maxConsecutiveFailures ?? DEFAULT_HEALTH_POLICY.maxConsecutiveFailures)
    this.backoff = { ...DEFAULT_BACKOFF, ...policy.backoff }
    this.clock = clock
  }

  get dropped (): boolean { return this.droppedFor !== undefined }
  get dropReason (): string | undefined { return this.droppedFor }
  /** When the source may be asked again (ms since the epoch; in the past when it may now). */
  get readyAt (): number { return this.cooldownUntil }
  coolingDown (now = this.clock.now()): boolean { return now < this.cooldownUntil }

  begin (): Attempt {
    const now = this.clock.now()
    if (this.inflight === 0) this.busySince = now
    this.inflight++
    this.requests++
    return { round: this.round, startedAt: now }
  }

  end (): void {
    this.inflight = Math.max(0, this.inflight - 1)
    if (this.inflight === 0) this.busyMs += this.clock.now() - this.busySince
  }

  /** Verified bytes arrived: the source is alive, its failures in a row start over. */
  delivered (bytes: number): void {
    if (bytes <= 0) return
    this.bytes += bytes
    this.consecutive = 0
    this.lastFailure = undefined
  }

  /** `retryAfterMs`: the rest the server asked for (Retry-After); see the module note. */
  failed (attempt: Attempt, kind: FailureClass, reason: string, retryAfterMs?: number): Verdict {
    if (this.dropped) return { dropped: false, counted: false, consecutive: this.consecutive, cooldownMs: 0 }
    this.failures++
    this.lastFailure = reason
    if (kind === 'transient' && retryAfterMs !== undefined) {
      const now = this.clock.now()
      // The backoff of the failures already counted still applies when it is longer than what the server asked.
      const backoff = this.consecutive > 0 ? backoffDelay(this.consecutive, this.backoff, this.clock.random) : 0
      this.cooldownUntil = Math.max(this.cooldownUntil, now + Math.max(backoff, retryAfterMs))
      return { dropped: false, counted: false, consecutive: this.consecutive, cooldownMs: this.cooldownUntil - now }
    }
    if (kind === 'permanent') {
      this.droppedFor = reason
      return { dropped: true, counted: false, consecutive: this.consecutive, cooldownMs: 0 }
    }
    if (attempt.round < this.round) return { dropped: false, counted: false, consecutive: this.consecutive, cooldownMs: Math.max(0, this.cooldownUntil - this.clock.now()) }
    this.round++
    this.consecutive++
    if (this.consecutive >= this.max) {
      this.droppedFor = `${reason}; ${this.consecutive} failures in a row without delivering`
      return { dropped: true, counted: true, consecutive: this.consecutive, cooldownMs: 0 }
    }
    const cooldownMs = backoffDelay(this.consecutive, this.backoff, this.clock.random)
    this.cooldownUntil = this.clock.now() + cooldownMs
    return { dropped: false, counted: true, consecutive: this.consecutive, cooldownMs }
  }

  /** Not asked again for `ms` (a source that is not answering, while others are), on top of any cooldown. */
  setAside (ms: number): void {
    this.cooldownUntil = Math.max(this.cooldownUntil, this.clock.now() + ms)
  }

  /** Dropped for a reason found outside a request (a leaf proved wrong later). */
  drop (reason: string): boolean {
    if (this.dropped) return false
    this.failures++
    this.droppedFor = reason
    return true
  }

  stats (): SourceStats {
    const now = this.clock.now()
    const busy = this.busyMs + (this.inflight > 0 ? now - this.busySince : 0)
    const cooldownMs = this.dropped ? 0 : Math.max(0, this.cooldownUntil - now)
    return {
      bytes: this.bytes,
      requests: this.requests,
      failures: this.failures,
      busyMs: busy,
      bytesPerSecond: busy > 0 ? Math.round(this.bytes / (busy / 1000)) : 0,
      dropped: this.dropped,
      dropReason: this.droppedFor,
      consecutiveFailures: this.consecutive,
      lastFailure: this.lastFailure,
      state: this.dropped ? 'dropped' : cooldownMs > 0 ? 'cooling' : 'active',
      cooldownMs
    }
  }
}

/**
 * The earliest time any of these (live) sources may be asked again, or
 * undefined when one may be asked now or none is left. Callers wait until
 * then (abortably) instead of failing while every source cools down.
 */
export function earliestReady (healths: SourceHealth[], now: number): number | undefined {
  let earliest: number | undefined
  for (const h of healths) {
    if (h.dropped) continue
    if (!h.coolingDown(now)) return undefined
    earliest = Math.min(earliest ?? Infinity, h.readyAt)
  }
  return earliest
}
