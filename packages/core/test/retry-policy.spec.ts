/**
 * The retry policy (packages/core/src/net/) as a spec: the table of exactly
 * what is transient (worth another try) and what is permanent, the backoff's
 * bounds, the stall watchdog's semantics and per-source health.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { AbortedError, BlockVerificationError, TimeoutError } from '../src/errors.ts'
import {
  backoffCap, backoffDelay, classifyCondition, classifyError, classifyErrorCode, classifyStatus, DownloadLimiter, earliestReady,
  MAX_RETRY_AFTER_MS, retryAfterMs, SourceHealth, stallGuard, StallWatchdog, withRetries, type Condition, type FailureClass
} from '../src/net/index.ts'

const T: FailureClass = 'transient'
const P: FailureClass = 'permanent'

describe('classifier: the table of what retries', () => {
  const statuses: Array<[number, FailureClass, string]> = [
    [408, T, 'Request Timeout'],
    [425, T, 'Too Early'],
    [429, T, 'Too Many Requests'],
    [500, T, 'Internal Server Error'],
    [502, T, 'Bad Gateway'],
    [503, T, 'Service Unavailable'],
    [504, T, 'Gateway Timeout'],
    [507, T, 'Insufficient Storage (passes)'],
    [520, T, "a CDN's unknown error"],
    [522, T, "a CDN's connection timed out"],
    [599, T, 'any other 5xx'],
    [501, P, 'Not Implemented'],
    [505, P, 'HTTP Version Not Supported'],
    [506, P, 'Variant Also Negotiates'],
    [508, P, 'Loop Detected'],
    [510, P, 'Not Extended'],
    [511, P, 'Network Authentication Required (captive portal)'],
    [400, P, 'Bad Request'],
    [401, P, 'Unauthorized'],
    [403, P, 'Forbidden'],
    [404, P, 'Not Found: the source lacks it'],
    [405, P, 'Method Not Allowed'],
    [406, P, 'Not Acceptable (trustless-only gateway)'],
    [410, P, 'Gone'],
    [412, P, 'Precondition Failed'],
    [416, P, 'Range Not Satisfiable'],
    [451, P, 'Unavailable For Legal Reasons'],
    [200, P, 'an OK of the wrong shape'],
    [206, P, 'a partial answer we did not ask for'],
    [302, P, 'a redirect we do not follow']
  ]
  for (const [status, expected, what] of statuses) {
    test(`HTTP ${status} (${what}) is ${expected}`, () => { assert.equal(classifyStatus(status), expected) })
  }

  // Retry-After: what rest a failed answer asks for (ms), the fixed clock at 2026-01-01T00:00:00Z.
  const now = Date.parse('2026-01-01T00:00:00Z')
  const retryAfter: Array<[number, string | null, number | undefined, string]> = [
    [429, '2', 2000, 'seconds'],
    [503, '120', 120_000, 'seconds (503)'],
    [429, '0', 0, 'zero: ask again now'],
    [429, 'Thu, 01 Jan 2026 00:00:30 GMT', 30_000, 'an HTTP date'],
    [503, 'Wed, 31 Dec 2025 23:59:00 GMT', 0, 'a date in the past'],
    [429, '86400', MAX_RETRY_AFTER_MS, 'a day: bounded to 5 min'],
    [429, null, undefined, 'no header: the usual backoff'],
    [429, '', undefined, 'empty'],
    [429, 'soon', undefined, 'unparseable'],
    [429, '-5', undefined, 'negative'],
    [429, '1.5', undefined, 'not delay-seconds (RFC 9110: digits only)'],
    [502, '2', undefined, 'other statuses: ignored'],
    [500, '2', undefined, 'other statuses: ignored'],
    [404, '2', undefined, 'a permanent status: ignored']
  ]
  for (const [status, header, expected, what] of retryAfter) {
    test(`HTTP ${status} with Retry-After ${JSON.stringify(header)} (${what}) rests ${String(expected)} ms`, () => {
      assert.equal(retryAfterMs(status, header, now), expected)
    })
  }

  const codes: Array<[string, FailureClass]> = [
    ['ECONNRESET', T], ['ECONNREFUSED', T], ['ECONNABORTED', T], ['EPIPE', T], ['ETIMEDOUT', T], ['ESOCKETTIMEDOUT', T],
    ['ENETRESET', T], ['EHOSTUNREACH', T], ['ENETUNREACH', T], ['ENETDOWN', T], ['EHOSTDOWN', T], ['EADDRNOTAVAIL', T],
    ['ENOTCONN', T], ['EAI_AGAIN', T], ['EMFILE', T], ['ENFILE', T], ['ENOBUFS', T],
    ['UND_ERR_SOCKET', T], ['UND_ERR_CONNECT_TIMEOUT', T], ['UND_ERR_HEADERS_TIMEOUT', T], ['UND_ERR_BODY_TIMEOUT', T],
    ['UND_ERR_CLOSED', T], ['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', T], ['ERR_STREAM_PREMATURE_CLOSE', T], ['ERR_TLS_HANDSHAKE_TIMEOUT', T],
    ['SOMETHING_NEW', T],
    ['ENOTFOUND', P],
    ['CERT_HAS_EXPIRED', P], ['CERT_NOT_YET_VALID', P], ['CERT_REVOKED', P], ['DEPTH_ZERO_SELF_SIGNED_CERT', P],
    ['SELF_SIGNED_CERT_IN_CHAIN', P], ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', P], ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', P],
    ['ERR_TLS_CERT_ALTNAME_INVALID', P], ['HOSTNAME_MISMATCH', P], ['ERR_SSL_WRONG_VERSION_NUMBER', P],
    ['ERR_INVALID_URL', P], ['ERR_UNSUPPORTED_PROTOCOL', P], ['UND_ERR_NOT_SUPPORTED', P], ['UND_ERR_INVALID_ARG', P]
  ]
  for (const [code, expected] of codes) {
    test(`error code ${code} is ${expected}`, () => { assert.equal(classifyErrorCode(code), expected) })
  }

  const conditions: Array<[Condition, FailureClass]> = [
    ['stalled', T], ['timeout', T], ['cut-short', T], ['bad-data', P], ['not-trustless', P]
  ]
  for (const [condition, expected] of conditions) {
    test(`condition ${condition} is ${expected}`, () => { assert.equal(classifyCondition(condition), expected) })
  }

  test('thrown errors: the code is found down the cause chain (undici) and in AggregateErrors (happy eyeballs)', () => {
    const fetchFailed = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }) })
    assert.deepEqual(classifyError(fetchFailed), { class: T, detail: 'ECONNREFUSED' })
    const dns = new TypeError('fetch failed', { cause: Object.assign(new Error('getaddrinfo ENOTFOUND nope.invalid'), { code: 'ENOTFOUND' }) })
    assert.deepEqual(classifyError(dns), { class: P, detail: 'ENOTFOUND' })
    const cert = new TypeError('fetch failed', { cause: Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }) })
    assert.equal(classifyError(cert).class, P)
    const both = new TypeError('fetch failed', { cause: new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' }), Object.assign(new Error('b'), { code: 'ENETUNREACH' })]) })
    assert.deepEqual(classifyError(both), { class: T, detail: 'ECONNREFUSED' })
  })

  test('thrown errors without a code: timeouts and unknown network errors are transient; a bad block is permanent', () => {
    assert.equal(classifyError(Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' })).class, T)
    assert.equal(classifyError(new TimeoutError('request', 1000)).class, T)
    assert.equal(classifyError(new TypeError('fetch failed')).class, T)
    assert.equal(classifyError(new BlockVerificationError('bafy', 'aa', 'bb')).class, P)
  })

  test('a port fetch() refuses to dial (its bad-ports list) is permanent: asking again never helps', async () => {
    const err = await fetch('http://127.0.0.1:9/').then(() => undefined, (e: unknown) => e)
    assert.ok(err instanceof Error, 'fetch of port 9 was refused')
    assert.equal(classifyError(err).class, P, String((err as { cause?: unknown }).cause))
  })
})

describe('backoff: full jitter, exponential, capped', () => {
  test('the cap doubles from the base and stops at the max', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map(n => backoffCap(n)), [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000])
    assert.deepEqual([1, 2, 3, 4].map(n => backoffCap(n, { baseMs: 10, maxMs: 50 })), [10, 20, 40, 50])
    assert.equal(backoffCap(10_000), 10_000, 'no overflow for huge attempt numbers')
  })

  test('the delay is uniform in [0, cap]: random 0 gives 0, random just under 1 gives the cap', () => {
    for (const n of [1, 3, 6, 12]) {
      assert.equal(backoffDelay(n, {}, () => 0), 0)
      assert.equal(backoffDelay(n, {}, () => 0.999999), backoffCap(n))
      assert.equal(backoffDelay(n, {}, () => 0.5), Math.round(backoffCap(n) / 2))
    }
  })

  test('with Math.random, every delay stays within its bound', () => {
    for (let n = 1; n <= 10; n++) {
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(n)
        assert.ok(d >= 0 && d <= backoffCap(n), `attempt ${n}: ${d}`)
      }
    }
  })

  test('withRetries: retries what is retryable with the backoff, gives up after `attempts`, never retries the rest', async () => {
    let calls = 0
    const delays: number[] = []
    const value = await withRetries(async () => { if (++calls < 3) throw new Error('busy'); return 'ok' },
      { attempts: 4, retryable: () => true, backoff: { baseMs: 4 }, random: () => 1, onRetry: (_e, _a, d) => delays.push(d) })
    assert.equal(value, 'ok')
    assert.equal(calls, 3)
    assert.deepEqual(delays, [4, 8])

    calls = 0
    await assert.rejects(withRetries(async () => { calls++; throw new Error('busy') }, { attempts: 3, retryable: () => true, backoff: { baseMs: 1 } }), /busy/)
    assert.equal(calls, 3)

    calls = 0
    await assert.rejects(withRetries(async () => { calls++; throw new Error('404') }, { attempts: 3, retryable: () => false }), /404/)
    assert.equal(calls, 1)

    const ac = new AbortController()
    const waiting = withRetries(async () => { throw new Error('busy') }, { attempts: 3, retryable: () => true, backoff: { baseMs: 60_000 }, random: () => 1, signal: ac.signal })
    setTimeout(() => ac.abort(), 20)
    await assert.rejects(waiting, AbortedError)
  })
})

const wait = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

describe('stall watchdog', () => {
  test('fires after the silence, once', async () => {
    let fired = 0
    const w = new StallWatchdog(40, () => { fired++ })
    await wait(80)
    assert.equal(fired, 1)
    assert.equal(w.stalled, true)
    w.kick()
    await wait(60)
    assert.equal(fired, 1, 'a kick after the stall changes nothing')
    const named = new StallWatchdog(1500, () => {})
    assert.equal(named.describe(), 'stalled (no data for 1.5 s)')
    named.stop()
  })

  test('kicks postpone it', async () => {
    let fired = 0
    const w = new StallWatchdog(60, () => { fired++ })
    for (let i = 0; i < 5; i++) { await wait(25); w.kick() }
    assert.equal(fired, 0, 'kicked every 25 ms for 125 ms: no stall')
    await wait(100)
    assert.equal(fired, 1, 'then silence: stalled')
    w.stop()
  })

  test('paused it does not fire (our disk is behind); resume re-arms from zero; kicks while paused are ignored', async () => {
    let fired = 0
    const w = new StallWatchdog(40, () => { fired++ })
    w.pause()
    w.kick()
    await wait(100)
    assert.equal(fired, 0)
    assert.equal(w.paused, true)
    w.resume()
    await wait(20)
    assert.equal(fired, 0, 'resume starts a fresh 40 ms')
    await wait(50)
    assert.equal(fired, 1, 'and that fresh clock still catches a source that stops')
  })

  test('stop: nothing fires after it', async () => {
    let fired = 0
    const w = new StallWatchdog(30, () => { fired++ })
    w.stop()
    w.kick()
    w.resume()
    await wait(60)
    assert.equal(fired, 0)
    assert.equal(w.stalled, false)
  })

  test('stallGuard: a stall aborts its signal and says so; the outer abort is told apart; dispose unhooks and ends it', async () => {
    const stalled = stallGuard(30)
    await wait(60)
    assert.equal(stalled.signal.aborted, true)
    assert.equal(stalled.stalled, true)
    stalled.dispose()

    const outer = new AbortController()
    const g = stallGuard(10_000, outer.signal)
    outer.abort()
    assert.equal(g.signal.aborted, true)
    assert.equal(g.stalled, false)
    g.dispose()

    const done = stallGuard(30)
    done.dispose()
    await wait(50)
    assert.equal(done.stalled, false, 'disposed: no stall')
    assert.equal(done.signal.aborted, true, 'disposed: whatever was still open on it is cancelled')
  })
})

/** A health record on a fake clock, random fixed at the cap (the longest cooldown). */
function healthAt (policy: ConstructorParameters<typeof SourceHealth>[0] = {}): { h: SourceHealth, clock: { t: number } } {
  const clock = { t: 1_000_000 }
  return { h: new SourceHealth(policy, { now: () => clock.t, random: () => 1 }), clock }
}

/** One request that fails transiently, begun and ended now. */
function failOnce (h: SourceHealth, reason = 'HTTP 503'): ReturnType<SourceHealth['failed']> {
  const a = h.begin()
  const v = h.failed(a, 'transient', reason)
  h.end()
  return v
}

describe('per-source health', () => {
  test('bad data (a permanent failure) drops the source at once', () => {
    const { h } = healthAt()
    const a = h.begin()
    h.delivered(1000)
    const v = h.failed(a, 'permanent', 'block bafy… failed verification')
    assert.equal(v.dropped, true)
    assert.equal(h.dropped, true)
    assert.match(h.dropReason ?? '', /failed verification/)
  })

  test('5 transient failures spread over a pull, with deliveries between: not dropped', () => {
    const { h, clock } = healthAt()
    for (let i = 0; i < 5; i++) {
      const v = failOnce(h)
      assert.equal(v.consecutive, 1)
      assert.equal(v.dropped, false)
      clock.t += v.cooldownMs
      h.begin()
      h.delivered(256 * 1024)
      h.end()
    }
    assert.equal(h.dropped, false)
    assert.equal(h.stats().failures, 5)
    assert.equal(h.stats().lastFailure, undefined, 'it recovered')
  })

  test('5 consecutive transient failures (each after its cooldown, nothing delivered) drop it', () => {
    const { h, clock } = healthAt()
    const cooldowns: number[] = []
    for (let i = 1; i <= 4; i++) {
      const v = failOnce(h)
      assert.equal(v.dropped, false)
      assert.equal(v.consecutive, i)
      cooldowns.push(v.cooldownMs)
      clock.t += v.cooldownMs
    }
    assert.deepEqual(cooldowns, [250, 500, 1000, 2000], 'the backoff caps (random fixed at 1)')
    const last = failOnce(h)
    assert.equal(last.dropped, true)
    assert.match(h.dropReason ?? '', /HTTP 503; 5 failures in a row/)
    assert.equal(h.failed(h.begin(), 'transient', 'again').dropped, false, 'dropped once, not twice')
  })

  test('maxConsecutiveFailures is configurable', () => {
    const { h, clock } = healthAt({ maxConsecutiveFailures: 2 })
    clock.t += failOnce(h).cooldownMs
    assert.equal(failOnce(h).dropped, true)
  })

  test('requests already in flight when a failure was counted are the same incident: they do not count again', () => {
    const { h, clock } = healthAt()
    const parallel = Array.from({ length: 6 }, () => h.begin())
    const verdicts = parallel.map(a => h.failed(a, 'transient', 'ECONNRESET'))
    for (let i = 0; i < 6; i++) h.end()
    assert.deepEqual(verdicts.map(v => v.counted), [true, false, false, false, false, false])
    assert.equal(h.stats().consecutiveFailures, 1)
    assert.equal(h.dropped, false)
    clock.t += 250
    assert.equal(failOnce(h).consecutive, 2, 'asked again after the cooldown and failed: that counts')
  })

  test('cooldown: not ready until the backoff delay has passed; earliestReady waits for the first of several', () => {
    const { h, clock } = healthAt({ backoff: { baseMs: 100 } })
    const { h: other } = healthAt({ backoff: { baseMs: 300 } })
    assert.equal(h.coolingDown(), false)
    const v = failOnce(h)
    assert.equal(v.cooldownMs, 100)
    assert.equal(h.coolingDown(), true)
    assert.equal(earliestReady([h, other], clock.t), undefined, 'another source is ready now')
    failOnce(other)
    assert.equal(earliestReady([h, other], clock.t), clock.t + 100, 'both cooling: the earliest is h')
    clock.t += 99
    assert.equal(h.coolingDown(), true)
    clock.t += 1
    assert.equal(h.coolingDown(), false)
    other.drop('gone')
    assert.equal(earliestReady([other], clock.t), undefined, 'dropped sources are not waited for')
  })

  test('Retry-After: rests the source for the time it names, longer than its backoff, and does not count toward dropping it', () => {
    const { h, clock } = healthAt({ maxConsecutiveFailures: 2 })
    for (let i = 0; i < 5; i++) {
      const a = h.begin()
      const v = h.failed(a, 'transient', 'HTTP 429', 2000)
      h.end()
      assert.deepEqual({ dropped: v.dropped, counted: v.counted, consecutive: v.consecutive, cooldownMs: v.cooldownMs }, { dropped: false, counted: false, consecutive: 0, cooldownMs: 2000 })
      assert.equal(h.stats().state, 'cooling')
      clock.t += 1999
      assert.equal(h.coolingDown(), true, 'still resting 1 ms before the time named')
      clock.t += 1
      assert.equal(h.coolingDown(), false)
      assert.equal(h.stats().state, 'active')
    }
    assert.equal(h.dropped, false, 'five 429s, never dropped (two ordinary failures would have)')
    // With failures already counted, the longer of their backoff (250 ms × 2^(n−1) at random 1) and Retry-After rests it.
    failOnce(h)
    clock.t += 10_000
    const a = h.begin()
    assert.equal(h.failed(a, 'transient', 'HTTP 503', 100).cooldownMs, 250, 'backoff longer than the 100 ms asked')
    h.end()
  })

  test('stats: state and cooldown: active, cooling (with the time left), dropped', () => {
    const { h, clock } = healthAt({ backoff: { baseMs: 100 } })
    assert.equal(h.stats().state, 'active')
    failOnce(h)
    assert.deepEqual([h.stats().state, h.stats().cooldownMs], ['cooling', 100])
    clock.t += 100
    assert.deepEqual([h.stats().state, h.stats().cooldownMs], ['active', 0])
    h.drop('bad block')
    assert.deepEqual([h.stats().state, h.stats().cooldownMs], ['dropped', 0])
  })

  test('stats: bytes, requests, failures and throughput while busy', () => {
    const { h, clock } = healthAt()
    h.begin()
    clock.t += 500
    h.delivered(1_000_000)
    clock.t += 500
    h.end()
    clock.t += 10_000 // idle time does not dilute the rate
    const s = h.stats()
    assert.equal(s.bytes, 1_000_000)
    assert.equal(s.requests, 1)
    assert.equal(s.busyMs, 1000)
    assert.equal(s.bytesPerSecond, 1_000_000)
  })
})

describe('download limiter (the bandwidth cap)', () => {
  test('unlimited: never waits; a cap lets one burst through, then waits for the debt to be paid at the rate', async () => {
    const l = new DownloadLimiter(0)
    l.take(1e9)
    assert.equal(l.delayMs(), 0)
    assert.equal(l.readCap(1 << 20), 1 << 20, 'reads are not cut while unlimited')
    l.setRate(1) // 1 MB/s: a burst of 256 KiB
    assert.equal(l.delayMs(), 0)
    assert.equal(l.readCap(1 << 20), 64 * 1024, 'capped reads ask for 64 KiB at most')
    l.take(256 * 1024 + 100_000) // 100 kB of debt: ~100 ms
    const d = l.delayMs()
    assert.ok(d > 80 && d <= 100, `delay ${d}`)
    const t0 = Date.now()
    await l.ready()
    assert.ok(Date.now() - t0 >= 70, 'ready() waited for the debt')
  })

  test('setRate wakes waiters at once (raising the cap, or lifting it); ready() is abortable', async () => {
    const l = new DownloadLimiter(0.01) // 10 kB/s
    l.take(256 * 1024 + 1_000_000) // 100 s of debt
    const t0 = Date.now()
    const waiting = l.ready()
    setTimeout(() => { l.setRate(0) }, 50)
    await waiting
    assert.ok(Date.now() - t0 < 1000, 'lifted: woken at once')
    l.setRate(0.01)
    l.take(1_000_000)
    const ctrl = new AbortController()
    const aborted = l.ready(ctrl.signal)
    ctrl.abort(new Error('stop'))
    await assert.rejects(aborted, /stop/)
  })
})
