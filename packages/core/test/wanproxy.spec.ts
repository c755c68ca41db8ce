/**
 * The WAN emulator (tools/wanproxy) does what the WAN tests and benchmark rely
 * on, against a trivial loopback HTTP server: delay, window, per-connection and
 * shared caps, and each fault. The timing checks test the emulator's fidelity,
 * not product code, so their bounds are generous (±25–30%).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Agent, createServer, get, type IncomingMessage, type Server } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { startWan, type Wan } from './helpers/wan.ts'

const MiB = 1024 * 1024
let server: Server
let origin: string
let wan: Wan

/** GET /bytes/<n> answers n bytes with a Content-Length. */
function startOrigin (): Promise<void> {
  const block = Buffer.alloc(64 * 1024, 0x61)
  server = createServer((req, res) => {
    const n = Number(/^\/bytes\/(\d+)$/.exec(req.url ?? '')?.[1] ?? 0)
    res.writeHead(200, { 'content-length': n, 'content-type': 'application/octet-stream' })
    let left = n
    const pump = (): void => {
      while (left > 0) {
        const piece = block.subarray(0, Math.min(left, block.length))
        left -= piece.length
        if (!res.write(piece)) { res.once('drain', pump); return }
      }
      res.end()
    }
    pump()
  })
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => {
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    resolve()
  }))
}

/** Seconds to first byte and to the end of a GET, and the body length. */
async function timedGet (url: string, agent: Agent | false = false): Promise<{ ttfb: number, total: number, bytes: number }> {
  const t0 = performance.now()
  const res = await new Promise<IncomingMessage>((resolve, reject) => get(url, { agent }, resolve).on('error', reject))
  const ttfb = (performance.now() - t0) / 1000
  let bytes = 0
  for await (const chunk of res) bytes += (chunk as Buffer).length
  return { ttfb, total: (performance.now() - t0) / 1000, bytes }
}

/**
 * A raw request on a socket of its own, counting every response byte (head
 * included) until the connection ends, fails, or `waitMs` passes with it open.
 */
function rawGet (url: string, path: string, waitMs = 5000): Promise<{ bytes: number, outcome: 'end' | 'open' | string }> {
  const { hostname, port } = new URL(url)
  return new Promise(resolve => {
    let bytes = 0
    const socket = connect(Number(port), hostname)
    const done = (outcome: string): void => { clearTimeout(timer); socket.destroy(); resolve({ bytes, outcome }) }
    const timer = setTimeout(() => done('open'), waitMs)
    socket.on('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`))
    socket.on('data', (d: Buffer) => { bytes += d.length })
    socket.on('end', () => done('end'))
    socket.on('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message))
  })
}

const within = (actual: number, expected: number, tolerance: number, what: string): void => {
  assert.ok(Math.abs(actual - expected) <= expected * tolerance, `${what}: ${actual.toFixed(3)} s, expected ${expected.toFixed(3)} s ±${tolerance * 100}%`)
}

describe('wanproxy', () => {
  before(async () => {
    await startOrigin()
    wan = await startWan(origin, [
      { name: 'rtt200', rttMs: 200 },
      { name: 'window', rttMs: 100, window: 128 * 1024 },
      { name: 'conn2mb', connRate: 2e6 },
      { name: 'total2mb', totalRate: 2e6 },
      { name: 'cut', cutAfter: 100_000 },
      { name: 'stall', stallAfter: 50_000 },
      { name: 'reset', resetProb: 1 },
      { name: 'silent', noFirstByte: true },
      { name: 'refused', refuse: true }
    ])
  })
  after(async () => {
    await wan?.stop()
    server?.closeAllConnections()
    await new Promise(resolve => server?.close(resolve))
  })

  test('adds the round-trip time to a request, and one more for a new connection', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    try {
      // The loopback baseline, warmed up and at its best of three: a first request (or a busy
      // machine) can cost a few hundred ms by itself, which would hide the delay under test.
      let direct = await timedGet(`${origin}/bytes/10`, agent)
      for (let i = 0; i < 3; i++) {
        const again = await timedGet(`${origin}/bytes/10`, agent)
        if (again.total < direct.total) direct = again
      }
      const fresh = await timedGet(`${wan.url('rtt200')}/bytes/10`, agent)
      const reused = await timedGet(`${wan.url('rtt200')}/bytes/10`, agent)
      within(fresh.total - direct.total, 0.4, 0.3, 'handshake + request on a new connection')
      within(reused.total - direct.total, 0.2, 0.3, 'request on a kept-alive connection')
    } finally {
      agent.destroy()
    }
  })

  test('one connection moves at most window/rtt', async () => {
    const r = await timedGet(`${wan.url('window')}/bytes/${MiB}`)
    assert.equal(r.bytes, MiB)
    // 1 MiB and the response head fill 9 windows of 128 KiB: the first arrives
    // after the handshake and the request's RTT, each further one an RTT later
    // (when the previous one is acknowledged).
    within(r.total, 0.2 + 8 * 0.1, 0.3, '1 MiB through a 128 KiB window at 100 ms')
  })

  test('a per-connection cap: 4 MiB at 2 MB/s takes about 2.1 s', async () => {
    const r = await timedGet(`${wan.url('conn2mb')}/bytes/${4 * MiB}`)
    assert.equal(r.bytes, 4 * MiB)
    within(r.total, 4 * MiB / 2e6, 0.25, '4 MiB at 2 MB/s')
  })

  test('two connections under a shared 2 MB/s cap split it', async () => {
    const [a, b] = await Promise.all([timedGet(`${wan.url('total2mb')}/bytes/${2 * MiB}`), timedGet(`${wan.url('total2mb')}/bytes/${2 * MiB}`)])
    // Alone, either would take 1.05 s; sharing, both end together at about 2.1 s.
    within(a.total, 4 * MiB / 2e6, 0.25, 'first of two sharing the cap')
    within(b.total, 4 * MiB / 2e6, 0.25, 'second of two sharing the cap')
  })

  test('cut-after closes the connection after exactly N response bytes', async () => {
    const r = await rawGet(wan.url('cut'), `/bytes/${MiB}`)
    assert.deepEqual(r, { bytes: 100_000, outcome: 'end' })
  })

  test('stall-after sends N bytes, then nothing, and keeps the connection open', async () => {
    const r = await rawGet(wan.url('stall'), `/bytes/${MiB}`, 1500)
    assert.deepEqual(r, { bytes: 50_000, outcome: 'open' })
  })

  test('reset-prob 1 resets every connection inside its response', async () => {
    const before = (await wan.stats()).find(s => s.name === 'reset')?.resets ?? 0
    for (let i = 0; i < 3; i++) {
      const r = await rawGet(wan.url('reset'), `/bytes/${MiB}`)
      assert.equal(r.outcome, 'ECONNRESET')
      assert.ok(r.bytes < MiB, `got ${r.bytes} bytes of a ${MiB}-byte body before the reset`)
    }
    assert.equal((await wan.stats()).find(s => s.name === 'reset')?.resets, before + 3)
  })

  test('no-first-byte accepts and never answers', async () => {
    const r = await rawGet(wan.url('silent'), `/bytes/${MiB}`, 1500)
    assert.deepEqual(r, { bytes: 0, outcome: 'open' })
  })

  test('refuse refuses connections', async () => {
    const r = await rawGet(wan.url('refused'), '/bytes/10')
    assert.deepEqual(r, { bytes: 0, outcome: 'ECONNREFUSED' })
  })

  test('set changes a link for new connections, and the proxy exits when its stdin closes', async () => {
    await wan.set('cut', { cutAfter: 0 })
    const r = await timedGet(`${wan.url('cut')}/bytes/${MiB}`)
    assert.equal(r.bytes, MiB)
    const other = await startWan(origin, [{ name: 'x' }])
    await other.stop()
    assert.throws(() => process.kill(other.pid, 0), { code: 'ESRCH' })
  })
})
