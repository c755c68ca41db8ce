/**
 * Runs one network operation again after transient failures, with the
 * jittered backoff between tries: for calls that are safe to repeat whole
 * (a GET of a small file, a download that has not written a byte yet).
 * Multi-source pulls do not use this: they move the work to another source
 * and let health.ts decide when to come back.
 */
import { backoffDelay, sleep, type BackoffOptions } from './backoff.ts'

export interface RetryOptions {
  /** Tries in all, the first included. Default 4. */
  attempts?: number
  backoff?: BackoffOptions
  signal?: AbortSignal
  /** True when this error is worth another try (classify.ts decides; the caller knows what it threw). */
  retryable: (err: unknown) => boolean
  /** Called before each wait, for the logs. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void
  random?: () => number
}

export async function withRetries<T> (fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const attempts = Math.max(1, opts.attempts ?? 4)
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt)
    } catch (err) {
      if (attempt >= attempts || opts.signal?.aborted === true || !opts.retryable(err)) throw err
      const delay = backoffDelay(attempt, opts.backoff, opts.random)
      opts.onRetry?.(err, attempt, delay)
      await sleep(delay, opts.signal)
    }
  }
}
