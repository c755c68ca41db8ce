/**
 * Jittered exponential backoff: how long to wait before asking again after
 * a transient failure (classify.ts says which failures those are).
 *
 * Full jitter (Brooker, "Exponential Backoff And Jitter", AWS 2015): the
 * delay before retry n is uniform in [0, min(maxMs, baseMs × 2^(n−1))]. Of
 * the schemes measured there it spreads retries of many clients best and
 * finishes the work soonest; a server that failed many of our requests at
 * once (one hiccup, six parallel requests) is not hit by six at once again.
 *
 * Defaults: base 250 ms, cap 10 s. Retry 1 waits up to 0.25 s, 2 up to
 * 0.5 s, 3 up to 1 s, 4 up to 2 s, … from retry 7 on up to 10 s. A source that
 * fails five times in a row (health.ts's default) has cost at most
 * 0.25 + 0.5 + 1 + 2 = 3.75 s of waiting (1.9 s on average) before it is dropped.
 */
export { sleep } from '../util/signals.ts'

export interface BackoffOptions {
  /** The cap of the first retry's delay, ms (doubles each retry). Default 250. */
  baseMs?: number
  /** No delay is longer than this, ms. Default 10 000. */
  maxMs?: number
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { baseMs: 250, maxMs: 10_000 }

/** The largest delay retry number `attempt` (1 = the first retry) may wait: min(maxMs, baseMs × 2^(attempt−1)). */
export function backoffCap (attempt: number, opts: BackoffOptions = {}): number {
  const base = opts.baseMs ?? DEFAULT_BACKOFF.baseMs
  const max = opts.maxMs ?? DEFAULT_BACKOFF.maxMs
  const n = Math.max(1, Math.floor(attempt))
  // 2^(n−1) overflows to Infinity long after the cap is reached; min() keeps it finite.
  return Math.min(max, base * 2 ** (n - 1))
}

/** The delay before retry number `attempt`: uniform in [0, backoffCap(attempt)]. `random` is injectable for tests. */
export function backoffDelay (attempt: number, opts: BackoffOptions = {}, random: () => number = Math.random): number {
  return Math.round(random() * backoffCap(attempt, opts))
}
