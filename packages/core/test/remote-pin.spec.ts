/**
 * Remote pinning through the Pinning Service API, against IPFS Cluster's own
 * pinsvc endpoint (a real 2-peer cluster): add → queued/pinning → pinned with
 * our kubo's addresses as origins, ls, rm; kubo's own `ipfs pin remote`
 * against the same endpoint sees the same status as ours; and failing
 * services (500s, silence, a request that fails) give clear errors.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { Socket } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CitrateError, KuboRpc, kuboOrigins, PinningServiceClient, remotePinAdd, remotePinList, remotePinRemove, type RemotePinProgress } from '../src/index.ts'
import { startTestCluster, type TestCluster } from './helpers/cluster.ts'
import { ipfs } from './helpers/kubo.ts'

let cluster: TestCluster
before(async () => { cluster = await startTestCluster(2) })
after(async () => { await cluster?.stop() })

function content (label: string, size: number): Buffer {
  const data = Buffer.alloc(size)
  for (let i = 0; i < data.length; i += 32) createHash('sha256').update(`${label}:${i}`).digest().copy(data, i)
  return data
}

/** A loopback HTTP server answering with `handler`; closed (and its sockets destroyed) by the returned function. */
async function fakeService (handler: Parameters<typeof createServer>[1]): Promise<{ url: string, requests: string[], close: () => Promise<void> }> {
  const requests: string[] = []
  const sockets = new Set<Socket>()
  const server: Server = createServer((req, res) => { requests.push(`${req.method ?? ''} ${req.url ?? ''}`); handler?.(req, res) })
  server.on('connection', s => { sockets.add(s); s.on('close', () => sockets.delete(s)) })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => { for (const s of sockets) s.destroy(); await new Promise(resolve => server.close(resolve)) }
  }
}

describe('remote pinning against the cluster\'s Pinning Service API', () => {
  test('add with our origins → pinned (status followed), ls, rm', async () => {
    const [a, b] = cluster.peers
    assert.ok(a != null && b != null)
    const cid = (await ipfs(a.kuboRepo, ['add', '-Q', '--pin=false'], content('remote-add', 600_000))).toString().trim()
    // "Our" kubo here is peer 0's: the service (through peer 1) may fetch from its addresses.
    const origins = await kuboOrigins(new KuboRpc(a.kuboApiUrl), { keepLoopback: true })
    assert.ok(origins.length > 0 && origins.every(o => o.startsWith('/ip4/127.0.0.1/') && o.includes('/p2p/')), origins.join(' '))
    const svc = new PinningServiceClient({ name: 'fleet', endpoint: b.pinsvcUrl, token: 'test-token', timeoutMs: 10_000 })
    const events: RemotePinProgress[] = []
    const pin = await remotePinAdd(svc, cid, { name: 'remote-model', origins, timeoutMs: 60_000, pollMs: 100, onProgress: e => events.push(e) })
    assert.equal(pin.status, 'pinned')
    assert.equal(pin.cid, cid)
    assert.equal(pin.name, 'remote-model')
    assert.equal(events.at(-1)?.status, 'pinned')
    assert.ok(events.every(e => e.requestid === pin.requestid && e.service === 'fleet'))
    assert.ok(events.length >= 1 && new Set(events.map(e => e.status)).size === events.length, 'one event per status change')

    const listed = await remotePinList(svc, { cid })
    assert.deepEqual(listed.map(p => [p.cid, p.status, p.name]), [[cid, 'pinned', 'remote-model']])
    assert.ok((await remotePinList(svc)).some(p => p.requestid === pin.requestid))

    assert.deepEqual(await remotePinRemove(svc, cid), [pin.requestid])
    assert.deepEqual(await remotePinList(svc, { cid }), [])
    await assert.rejects(svc.get(pin.requestid), (err: unknown) => err instanceof CitrateError && err.code === 'PIN_SERVICE_ERROR' && /HTTP 404/.test(err.message))
  })

  test("kubo's own `ipfs pin remote` against the same endpoint shows the same status as ours", async () => {
    const [a, b] = cluster.peers
    assert.ok(a != null && b != null)
    const cid = (await ipfs(a.kuboRepo, ['add', '-Q', '--pin=false'], content('remote-kubo', 300_000))).toString().trim()
    const repo = await mkdtemp(join(tmpdir(), 'citrate-kubo-ref-'))
    try {
      await ipfs(repo, ['init', '--profile', 'test'])
      await ipfs(repo, ['pin', 'remote', 'service', 'add', 'fleet', b.pinsvcUrl, 'test-token'])
      // kubo waits for "pinned" itself (no --background).
      await ipfs(repo, ['pin', 'remote', 'add', '--service=fleet', '--name=kubo-ref', cid])
      const kuboLs = (await ipfs(repo, ['pin', 'remote', 'ls', '--service=fleet', `--cid=${cid}`, '--status=queued,pinning,pinned,failed', '--enc=json'])).toString()
      const kuboView = kuboLs.split('\n').filter(l => l.trim() !== '').map(l => JSON.parse(l) as { Cid: string, Status: string, Name: string })
      const ours = await remotePinList(new PinningServiceClient({ name: 'fleet', endpoint: b.pinsvcUrl, token: 'test-token' }), { cid })
      assert.deepEqual(kuboView.map(p => [p.Cid, p.Status, p.Name]), [[cid, 'pinned', 'kubo-ref']])
      assert.deepEqual(ours.map(p => [p.cid, p.status, p.name]), kuboView.map(p => [p.Cid, p.Status, p.Name]))
      // And the other way round: kubo removes what we list, and we see it gone.
      await ipfs(repo, ['pin', 'remote', 'rm', '--service=fleet', `--cid=${cid}`])
      assert.deepEqual(await remotePinList(new PinningServiceClient({ name: 'fleet', endpoint: b.pinsvcUrl }), { cid }), [])
    } finally {
      await rm(repo, { recursive: true, force: true })
    }
  })

  test('a service answering 500, one that never answers, and a request that fails: clear errors, no pinned result', async () => {
    const broken = await fakeService((_req, res) => { res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"reason":"INTERNAL","details":"disk on fire"}}') })
    const silent = await fakeService(() => { /* never answers */ })
    let polls = 0
    const failing = await fakeService((req, res) => {
      const status = req.method === 'POST' ? 'queued' : (++polls < 2 ? 'pinning' : 'failed')
      res.writeHead(req.method === 'POST' ? 202 : 200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ requestid: 'req-1', status, created: new Date().toISOString(), pin: { cid: 'bafkqaaa' }, delegates: [], info: status === 'failed' ? { reason: 'content not found' } : {} }))
    })
    // A service that takes the request and never gets past "queued".
    const stuck = await fakeService((req, res) => {
      res.writeHead(req.method === 'POST' ? 202 : 200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ requestid: 'req-stuck', status: 'queued', created: new Date().toISOString(), pin: { cid: 'bafkqaaa' }, delegates: [] }))
    })
    try {
      const cid = 'bafkqaaa'
      await assert.rejects(remotePinAdd(new PinningServiceClient({ name: 'slow', endpoint: stuck.url }), cid, { timeoutMs: 1_000, pollMs: 100 }), (err: unknown) => {
        assert.ok(err instanceof CitrateError)
        assert.equal(err.code, 'TIMEOUT')
        assert.equal(err.message, 'pinning bafkqaaa at slow (request req-stuck, still queued; the service keeps the request) timed out after 1 s')
        return true
      })
      assert.ok(stuck.requests.filter(r => r === 'GET /pins/req-stuck').length >= 2, stuck.requests.join(' '))
      const svc500 = new PinningServiceClient({ name: 'broken', endpoint: broken.url, timeoutMs: 10_000 })
      await assert.rejects(remotePinAdd(svc500, cid, { timeoutMs: 10_000 }), (err: unknown) => {
        assert.ok(err instanceof CitrateError)
        assert.equal(err.code, 'PIN_SERVICE_ERROR')
        assert.match(err.message, /^pinning service broken: the pin request for bafkqaaa was refused: HTTP 500 \(INTERNAL: disk on fire\)$/)
        return true
      })
      // A POST creates a request each time: sent once, never retried.
      assert.deepEqual(broken.requests, ['POST /pins'])
      // A list is safe to repeat: retried on 500, then reported.
      await assert.rejects(remotePinList(svc500), (err: unknown) => err instanceof CitrateError && err.code === 'PIN_SERVICE_ERROR' && /HTTP 500/.test(err.message))
      assert.equal(broken.requests.filter(r => r.startsWith('GET /pins?')).length, 4)

      const mute = new PinningServiceClient({ name: 'mute', endpoint: silent.url, timeoutMs: 1_500 })
      await assert.rejects(remotePinAdd(mute, cid, { timeoutMs: 60_000 }), (err: unknown) => {
        assert.ok(err instanceof CitrateError)
        assert.equal(err.code, 'PIN_SERVICE_ERROR')
        assert.match(err.message, /did not answer the pin request for bafkqaaa: no answer within 1500 ms/)
        return true
      })

      const events: string[] = []
      const svcFail = new PinningServiceClient({ name: 'flaky', endpoint: failing.url, timeoutMs: 10_000 })
      await assert.rejects(remotePinAdd(svcFail, cid, { timeoutMs: 30_000, pollMs: 50, onProgress: e => events.push(e.status) }), (err: unknown) => {
        assert.ok(err instanceof CitrateError)
        assert.equal(err.code, 'REMOTE_PIN_FAILED')
        assert.equal(err.message, 'pinning service flaky could not pin bafkqaaa (request req-1): content not found')
        return true
      })
      assert.deepEqual(events, ['queued', 'pinning', 'failed'])
    } finally {
      await Promise.all([broken.close(), silent.close(), failing.close(), stuck.close()])
    }
  })

  test('a list longer than a page is followed with before= to its count; delegates in the answer are dialed', async () => {
    // 25 requests, one second apart, served newest first in pages of at most `limit` (this fake caps pages at 10).
    const pins = Array.from({ length: 25 }, (_, i) => ({ requestid: `r${i}`, status: 'pinned', created: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), pin: { cid: 'bafkqaaa' }, delegates: [] }))
    const paged = await fakeService((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x')
      if (req.method === 'POST') {
        res.writeHead(202, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ ...pins[0], status: 'pinned', delegates: ['/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWDelegate'] }))
        return
      }
      const before = u.searchParams.get('before')
      const limit = Math.min(10, Number(u.searchParams.get('limit') ?? '10'))
      const page = pins.filter(p => before == null || p.created < before).sort((a, b) => b.created.localeCompare(a.created)).slice(0, limit)
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ count: pins.length, results: page }))
    })
    try {
      const svc = new PinningServiceClient({ name: 'paged', endpoint: paged.url })
      const all = await remotePinList(svc)
      assert.deepEqual(all.map(p => p.requestid).sort(), pins.map(p => p.requestid).sort())
      assert.equal(paged.requests.filter(r => r.startsWith('GET /pins?')).length, 3)
      assert.ok(paged.requests.every(r => !r.startsWith('GET /pins?') || r.includes('status=queued%2Cpinning%2Cpinned%2Cfailed')), 'every status asked for')
      const dialed: string[][] = []
      await remotePinAdd(svc, 'bafkqaaa', { timeoutMs: 5_000, connectDelegates: async (d) => { dialed.push(d) } })
      assert.deepEqual(dialed, [['/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWDelegate']])
    } finally {
      await paged.close()
    }
  })
})
