/**
 * A flaky gateway as the ONLY source: a scripted proxy on 127.0.0.1 in front
 * of the real test kubo's gateway. A source that fails transiently now and
 * then over a long pull (delivering in between) is kept and the pull
 * succeeds; one that fails every request is dropped in bounded time with
 * ALL_SOURCES_FAILED (net/health.ts).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { GatewaySource, pull, type PullEvent } from '../src/index.ts'
import { chachaBytes } from './helpers/content.ts'
import { ipfs, makeTestHome, type TestHome } from './helpers/kubo.ts'
import { startThrottleProxy, type Fault, type ThrottleProxy } from './helpers/throttle-proxy.ts'

let h: TestHome
let upstream: string
const proxies: ThrottleProxy[] = []
// 6 MiB in 64 KiB leaves: ~100 raw-block requests block by block, 6 byte-range reads of 1 MiB.
const data = chachaBytes('flaky', 6 * 1024 * 1024 + 4321)
let cid: string
let run = 0

before(async () => {
  h = await makeTestHome('auto_pin = false')
  upstream = (await h.manager.start()).status.gatewayUrl
  cid = (await ipfs(h.config.paths.ipfsRepo, ['add', '-Q', '--pin=false', '--chunker=size-65536', '--raw-leaves'], data)).toString().trim()
})
after(async () => {
  for (const p of proxies) await p.close()
  await h?.cleanup()
})

async function proxy (fault: (n: number) => Fault): Promise<ThrottleProxy> {
  const p = await startThrottleProxy(upstream, Infinity, { fault })
  proxies.push(p)
  return p
}

type SourceFailedEvent = Extract<PullEvent, { type: 'citrate:pull:source-failed' }>

describe('a flaky gateway as the only source', () => {
  // Block by block: many small requests, two at a time. Byte ranges: few 1 MiB reads, failures retried as ranges.
  const paths = [
    { label: 'block by block', rangeBytes: 0, concurrency: 2, failAt: [3, 20, 40, 60, 80] },
    { label: 'byte ranges', rangeBytes: 1024 * 1024, concurrency: 1, failAt: [2, 4, 6, 8, 10] }
  ]
  for (const { label, rangeBytes, concurrency, failAt } of paths) {
    test(`${label}: five transient failures (503s and resets) spread over the pull, delivering between: kept, and the pull succeeds`, async () => {
      const flaky = await proxy(n => {
        const i = failAt.indexOf(n)
        return i < 0 ? 'pass' : (i % 2 === 0 ? 503 : 'reset')
      })
      const events: SourceFailedEvent[] = []
      const res = await pull({
        cid,
        config: h.config,
        name: `flaky-${run++}`,
        sources: [new GatewaySource(flaky.url, { stallMs: 5000 })],
        rangeBytes,
        concurrency,
        streams: 1,
        onProgress: e => { if (e.type === 'citrate:pull:source-failed') events.push(e) }
      })
      assert.equal(flaky.faults, 5, 'all five scripted failures happened')
      assert.ok(flaky.requests > (failAt.at(-1) ?? 0), `the pull went on past the last failure (${flaky.requests} requests)`)
      assert.ok((await readFile(res.path)).equals(data), 'exact bytes')
      assert.equal(events.length, 5, JSON.stringify(events))
      assert.ok(events.every(e => !e.dropped), 'never dropped')
      assert.ok(events.some(e => /HTTP 503/.test(e.reason)) && events.some(e => /request failed|closed|socket/i.test(e.reason)), JSON.stringify(events.map(e => e.reason)))
      assert.deepEqual(res.failures, [], 'it recovered: nothing to report')
    })
  }

  for (const fault of [503, 'reset'] as Fault[]) {
    test(`a source that fails every request (${String(fault)}) is dropped after 5 rounds: ALL_SOURCES_FAILED in bounded time`, async () => {
      const dead = await proxy(() => fault)
      const started = Date.now()
      await assert.rejects(pull({
        cid,
        config: h.config,
        name: `dead-${run++}`,
        sources: [new GatewaySource(dead.url, { stallMs: 2000, retry: { backoff: { baseMs: 20, maxMs: 100 } } })],
        rangeBytes: 1024 * 1024
      }), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ALL_SOURCES_FAILED')
        assert.match(err.message, /5 failures in a row/)
        assert.ok(err.message.includes(dead.url))
        return true
      })
      const elapsed = Date.now() - started
      // Cooldowns of at most 20 + 40 + 80 + 100 ms, and five fast failures.
      assert.ok(elapsed < 3000, `gave up in ${elapsed} ms`)
      assert.equal(dead.requests, 5, 'asked exactly once per round: the root block, five times')
    })
  }

  test('a source that fails while another delivers: the work moves, the failing one cools down and is kept while it recovers', async () => {
    // Fails its first three requests, then is fine: a gateway that was restarting.
    const restarting = await proxy(n => n <= 3 ? 503 : 'pass')
    const steady = await proxy(() => 'pass')
    const res = await pull({
      cid,
      config: h.config,
      name: `restart-${run++}`,
      sources: [new GatewaySource(restarting.url, { retry: { backoff: { baseMs: 20, maxMs: 40 } } }), new GatewaySource(steady.url)],
      rangeBytes: 0,
      concurrency: 2
    })
    assert.ok((await readFile(res.path)).equals(data), 'exact bytes')
    assert.ok(restarting.requests > 3, `asked again after its cooldowns (${restarting.requests} requests)`)
    assert.deepEqual(res.failures, [], 'it recovered: nothing to report')
  })
})
