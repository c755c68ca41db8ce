/**
 * The one retry policy for every network call in core: which failures are
 * worth another try (classify.ts), how long to wait first (backoff.ts), when a
 * silent request is stalled (watchdog.ts), and when a source has failed often
 * enough to stop asking it (health.ts); and the download bandwidth cap every
 * read is counted against (rate-limit.ts).
 */
export { classifyCondition, classifyError, classifyErrorCode, classifyStatus, errorCode, MAX_RETRY_AFTER_MS, retryAfterMs, type ClassifiedError, type Condition, type FailureClass } from './classify.ts'
export { backoffCap, backoffDelay, DEFAULT_BACKOFF, sleep, type BackoffOptions } from './backoff.ts'
export { stallGuard, StallWatchdog, type StallGuard } from './watchdog.ts'
export { DEFAULT_HEALTH_POLICY, earliestReady, SourceHealth, type Attempt, type HealthClock, type HealthPolicy, type SourceStats, type Verdict } from './health.ts'
export { withRetries, type RetryOptions } from './retry.ts'
export { DownloadLimiter, LIMITED_READ_BYTES } from './rate-limit.ts'
