/**
 * The scheduling policy of a multi-source pull (fetch/source-pool.ts) on a
 * fake clock: who gets the next request, how windows grow and shrink, and
 * what a source that cuts answers short is given.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { SAMPLE_MS, SourcePool } from '../src/fetch/source-pool.ts'

const MiB = 1024 * 1024

function fakePool (caps: number[]): { pool: SourcePool, clock: { t: number } } {
  const clock = { t: 1_000_000 }
  return { pool: new SourcePool(caps, { now: () => clock.t }), clock }
}

/** Source `i` delivers at `rate` bytes/s for `ms` with `inflight` requests running. */
function run (pool: SourcePool, clock: { t: number }, i: number, rate: number, ms: number, inflight = 1): void {
  for (let k = 0; k < inflight; k++) pool.begin(i, 64 * MiB)
  for (let t = 0; t < ms; t += 100) { clock.t += 100; pool.progress(i, rate / 10) }
  for (let k = 0; k < inflight; k++) pool.end(i, 64 * MiB)
}

describe('source pool', () => {
  test('unmeasured sources are asked first, in the configured order', () => {
    const { pool, clock } = fakePool([16, 8, 8])
    run(pool, clock, 0, 50e6, 1000)
    assert.ok(pool.rate(0) !== undefined)
    // Source 0 is measured and owes nothing, but 1 and 2 are unmeasured (expected at once): 1 first by order.
    assert.equal(pool.choose([0, 1, 2], 8 * MiB), 1)
    pool.begin(1, 8 * MiB)
    pool.begin(1, 8 * MiB)
    // 1's window (2) is full: 2 is next.
    assert.equal(pool.choose([0, 1, 2], 8 * MiB), 2)
  })

  test('the source expected to finish soonest gets the request; near ties go by order', () => {
    const { pool, clock } = fakePool([8, 8])
    run(pool, clock, 0, 10e6, 2000)
    run(pool, clock, 1, 40e6, 2000)
    assert.equal(pool.choose([0, 1], 8 * MiB), 1, 'the 4× faster one')
    pool.begin(1, 32 * MiB) // it now owes 32 MiB: (32+8)/40 = 1.05 s against 8/10 = 0.84 s
    assert.equal(pool.choose([0, 1], 8 * MiB), 0)
    const even = fakePool([8, 8])
    run(even.pool, even.clock, 0, 20e6, 2000)
    run(even.pool, even.clock, 1, 21e6, 2000)
    assert.equal(even.pool.choose([0, 1], 8 * MiB), 0, 'within 10%: the configured order wins')
  })

  test('a source far slower than the fastest is held to one request', () => {
    const { pool, clock } = fakePool([8, 8])
    run(pool, clock, 0, 80e6, 2000)
    run(pool, clock, 1, 5e6, 2000)
    assert.equal(pool.allowed(1), 1)
    pool.begin(1, MiB)
    assert.equal(pool.hasRoom(1), false)
    assert.ok(pool.allowed(0) >= 2)
  })

  test('the window grows while throughput grows, steps back when it stops, halves on failure; never past the cap', () => {
    const { pool, clock } = fakePool([4])
    assert.equal(pool.window(0), 2)
    // Throughput proportional to requests in flight (a long-RTT link): each probe helps.
    for (let round = 0; round < 12; round++) {
      const w = pool.window(0)
      run(pool, clock, 0, w * 5e6, SAMPLE_MS, w)
    }
    assert.equal(pool.window(0), 4, 'grew to the cap')
    const flat = fakePool([16])
    // Throughput flat whatever the window: a probe does not stick.
    for (let round = 0; round < 12; round++) run(flat.pool, flat.clock, 0, 30e6, SAMPLE_MS, flat.pool.window(0))
    assert.ok(flat.pool.window(0) <= 3, `flat throughput keeps the window small (${flat.pool.window(0)})`)
    pool.failed(0, 0, 0)
    assert.equal(pool.window(0), 2)
    pool.failed(0, 0, 0)
    pool.failed(0, 0, 0)
    assert.equal(pool.window(0), 1)
  })

  test('answers cut at the same size twice: requests of 3/4 of it; random resets teach nothing', () => {
    const { pool } = fakePool([8])
    pool.failed(0, MiB, 8 * MiB)
    assert.equal(pool.responseCap(0), undefined, 'one cut is not a pattern')
    pool.failed(0, MiB - 1000, 8 * MiB)
    assert.equal(pool.responseCap(0), Math.floor((MiB - 1000) * 0.75))
    const cap = pool.responseCap(0) as number
    for (let k = 0; k < 4; k++) pool.succeeded(0, cap)
    assert.equal(pool.responseCap(0), Math.floor(cap * 1.25), 'four whole answers try 25% more')
    const random = fakePool([8])
    random.pool.failed(0, 3 * MiB, 8 * MiB)
    random.pool.failed(0, 500 * 1024, 8 * MiB)
    assert.equal(random.pool.responseCap(0), undefined)
  })
  test('a block request measures latency, not bandwidth: a tiny root does not make the fastest source look slow', () => {
    const { pool } = fakePool([8, 8, 4])
    // Source 0 answered the root (8 KiB) in 130 ms: 63 KB/s if it were read as throughput.
    pool.begin(0, 8 * 1024)
    pool.block(0, 8 * 1024, 0.13)
    pool.end(0, 0)
    assert.equal(pool.rate(0), undefined, 'no bandwidth measured from a block')
    assert.equal(pool.latency(0), 0.13)
    // The others are taken to be as quick as the quickest known: a tie, so the configured order decides.
    assert.equal(pool.choose([0, 1, 2], 8 * MiB), 0)
    assert.ok(Math.abs(pool.expectedSeconds(1, 8 * MiB) - 0.13) < 1e-9)
  })

  test('the first stream sample replaces what blocks measured; later ones blend', () => {
    const { pool, clock } = fakePool([8])
    pool.begin(0, 1024)
    for (let k = 0; k < 5; k++) { clock.t += 100; pool.block(0, 1024, 0.1) }
    clock.t += SAMPLE_MS
    pool.end(0, 0)
    assert.equal(pool.rate(0), undefined)
    run(pool, clock, 0, 40e6, 2 * SAMPLE_MS)
    const r = pool.rate(0) as number
    assert.ok(r > 35e6 && r < 45e6, `the rate is the stream's (${(r / 1e6).toFixed(1)} MB/s)`)
  })

  test('no probe before a full sample at the first window (the first measures handshakes)', () => {
    const { pool, clock } = fakePool([8])
    // A ramp: the first half second at a third of the speed, then flat at the cap whatever the window.
    run(pool, clock, 0, 20e6, SAMPLE_MS, pool.window(0))
    for (let round = 0; round < 10; round++) run(pool, clock, 0, 60e6, SAMPLE_MS, pool.window(0))
    assert.equal(pool.window(0), 2, `flat after the ramp: the window stays where it was (${pool.window(0)})`)
  })
  test('a lost connection (reset, closed) does not cut the window; a failure with nothing delivered otherwise halves it', () => {
    const { pool } = fakePool([8])
    assert.equal(pool.window(0), 2)
    const wide = new SourcePool([8], { now: () => 0 }, [8])
    for (let k = 0; k < 4; k++) wide.failed(0, 0, 0, true)
    assert.equal(wide.window(0), 8, 'four resets of block requests: still 8')
    wide.failed(0, 0, 0, false)
    assert.equal(wide.window(0), 4, 'a 503 or a stall: halved')
  })
  test('a source passed over is judged by its capacity (per request × window), not by the little it was given', () => {
    const clock = { t: 1_000_000 }
    const pool = new SourcePool([8, 4], { now: () => clock.t }, [4, 4])
    run(pool, clock, 0, 40e6, 2000, 4)
    run(pool, clock, 1, 20e6, 2000, 4)
    // Then it got one request at a time: 5 MB/s in total, still 5 MB/s per request.
    run(pool, clock, 1, 5e6, 3000, 1)
    assert.ok((pool.rate(1) as number) < 10e6, 'its recent total fell')
    for (let k = 0; k < 3; k++) pool.begin(0, 8 * MiB)
    // Source 0 owes 24 MiB: (24 + 8) / 40 = 0.84 s; source 1 with room for 4 at 5 MB/s each: 8 / 20 = 0.42 s.
    assert.equal(pool.choose([0, 1], 8 * MiB), 1)
  })
  test('in the bulk of a pull (fill) the least-used window is filled first; otherwise the soonest finish wins', () => {
    const clock = { t: 1_000_000 }
    const pool = new SourcePool([4, 4], { now: () => clock.t }, [4, 4])
    run(pool, clock, 0, 60e6, 2000, 4)
    run(pool, clock, 1, 16e6, 2000, 4)
    pool.begin(0, 8 * MiB)
    pool.begin(1, 8 * MiB)
    pool.begin(1, 8 * MiB)
    // Source 0 (60 MB/s, 1 of 4 in use) would finish the piece first; source 1 (16 MB/s) has 2 of 4 in use.
    assert.equal(pool.choose([0, 1], 8 * MiB), 0)
    pool.begin(0, 8 * MiB)
    pool.begin(0, 8 * MiB)
    // Now 0 has 3 of 4 in use, 1 has 2 of 4: filling goes to 1, the soonest finish still to 0.
    assert.equal(pool.choose([0, 1], 8 * MiB, true), 1)
    assert.equal(pool.choose([0, 1], 8 * MiB), 0)
  })
})
