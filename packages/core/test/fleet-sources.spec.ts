/**
 * The fleet as sources (issue 15 item 4): with `[ipfs.cluster]` set, a pull
 * asks the cluster which gateways its peers announce (IPFS Cluster's tags
 * informer, `gateway`) and takes bytes from them as from any gateway —
 * verified: a peer that serves wrong blocks is dropped and the pull ends from
 * the others. A cluster that does not answer only means a pull without the fleet.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { clusterGatewayUrls, pull, CLUSTER_DISCOVERY_MS } from '../src/index.ts'
import { startTestCluster, type TestCluster } from './helpers/cluster.ts'
import { chachaBytes } from './helpers/content.ts'
import { ipfs, makeTestHome, type TestHome } from './helpers/kubo.ts'

let cluster: TestCluster
let liar: Server
let liarUrl: string
let silent: Server
const homes: TestHome[] = []
before(async () => {
  // Answers every request with the right status, type and length, and the wrong bytes: a byte range gets
  // exactly the bytes it asked for (so the answer is judged by its hashes, not refused as a short body).
  liar = createServer((req, res) => {
    const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '')
    if (range != null) {
      const [from, to] = [Number(range[1]), Number(range[2])]
      res.writeHead(206, { 'content-type': 'application/octet-stream', 'content-range': `bytes ${from}-${to}/*`, 'content-length': String(to - from + 1) })
      res.end(randomBytes(to - from + 1))
      return
    }
    res.writeHead(200, { 'content-type': 'application/vnd.ipld.raw' })
    res.end(randomBytes(1024))
  })
  await new Promise<void>(resolve => liar.listen(0, '127.0.0.1', resolve))
  liarUrl = `http://127.0.0.1:${(liar.address() as { port: number }).port}`
  // Peer 2 announces the liar instead of its own gateway.
  cluster = await startTestCluster(3, { gatewayOf: (i, own) => i === 2 ? liarUrl : own })
  silent = createServer(() => { /* never answers */ })
  await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
})
after(async () => {
  for (const h of homes) await h.cleanup()
  await cluster?.stop()
  liar?.closeAllConnections()
  liar?.close()
  silent?.closeAllConnections()
  silent?.close()
})

async function fleetHome (clusterUrl: string): Promise<TestHome> {
  const h = await makeTestHome(['daemon_enabled = false', 'auto_pin = false', '', '[ipfs.cluster]', `url = ${JSON.stringify(clusterUrl)}`].join('\n'))
  homes.push(h)
  return h
}

/** Adds the bytes on peer 0's kubo and has the cluster pin them on every peer. */
async function seed (label: string, size: number): Promise<{ cid: string, bytes: Buffer }> {
  const bytes = Buffer.from(chachaBytes(label, size))
  const [p0] = cluster.peers
  assert.ok(p0 != null)
  const cid = (await ipfs(p0.kuboRepo, ['add', '-Q', '--pin=false'], bytes)).toString().trim()
  const r = await fetch(`${p0.restUrl}/pins/${cid}?name=${label}`, { method: 'POST' })
  assert.ok(r.ok, await r.text())
  const end = Date.now() + 60_000
  for (;;) {
    const st = await (await fetch(`${p0.restUrl}/pins/${cid}`)).json() as { peer_map?: Record<string, { status: string }> }
    const states = Object.values(st.peer_map ?? {}).map(p => p.status)
    if (states.length === 3 && states.every(s => s === 'pinned')) break
    assert.ok(Date.now() < end, `replication: ${states.join(', ')}`)
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  return { cid, bytes }
}

describe('the fleet as sources', () => {
  test('the cluster names each peer\'s gateway', async () => {
    const h = await fleetHome(cluster.peers[0]?.restUrl ?? '')
    const found = await clusterGatewayUrls(h.config)
    assert.deepEqual(found.map(f => f.peer).sort(), cluster.peers.map(p => p.id).sort())
    const byPeer = new Map(found.map(f => [f.peer, f.url.replace(/\/+$/, '')]))
    assert.equal(byPeer.get(cluster.peers[0]?.id ?? ''), cluster.peers[0]?.kuboGatewayUrl)
    assert.equal(byPeer.get(cluster.peers[2]?.id ?? ''), liarUrl)
  })

  test('a pull takes verified bytes from the peers\' gateways; the peer serving wrong blocks is dropped', async () => {
    const { cid, bytes } = await seed('fleet-pull', 12 * 1024 * 1024 + 5)
    // Names are "cluster peer <id> (<url>)": matched whole, as one port can be a prefix of another.
    const named = (url: string): ((s: { name: string }) => boolean) => (s) => s.name.endsWith(`(${url})`)
    // On loopback the two honest peers can carry a 12 MiB pull before the third is asked at all (it comes
    // last in the cluster's order one run in three): fresh homes, until a pull has asked the liar.
    let askedLiar = false
    for (let attempt = 0; attempt < 8 && !askedLiar; attempt++) {
      const h = await fleetHome(cluster.peers[attempt % 2]?.restUrl ?? '')
      const r = await pull({ cid, config: h.config, name: `from-fleet-${attempt}` })
      assert.ok((await readFile(r.path)).equals(bytes), 'byte-identical')
      assert.equal(r.entry.verified, true)
      const share = (url: string): number => r.shares.find(named(url))?.bytes ?? 0
      const honest = cluster.peers.slice(0, 2).map(p => share(p.kuboGatewayUrl))
      assert.ok(honest.some(b => b > 0), `the honest peers delivered: ${honest.join(', ')} bytes`)
      assert.equal(share(liarUrl), 0, `nothing of the liar is credited: ${JSON.stringify(r.shares)}`)
      const liarShare = r.shares.find(named(liarUrl))
      assert.ok(liarShare != null, `the liar is one of the sources: ${JSON.stringify(r.shares.map(s => s.name))}`)
      if (liarShare.requests === 0) continue
      askedLiar = true
      assert.equal(liarShare.dropped, true, `asked, it is dropped for bad data: ${JSON.stringify(liarShare)}`)
      assert.match(liarShare.reason ?? '', /do not match|failed verification/i)
    }
    assert.ok(askedLiar, 'one of 8 pulls asked the liar')
  })

  test('a cluster that does not answer: the pull goes on without the fleet, after at most the discovery bound', async () => {
    const { cid, bytes } = await seed('fleet-silent', 256 * 1024)
    const h = await fleetHome(`http://127.0.0.1:${(silent.address() as { port: number }).port}`)
    // The one other source: peer 0's gateway as the user's external gateway.
    await h.reload()
    h.config.ipfs.external_gateway = cluster.peers[0]?.kuboGatewayUrl ?? ''
    const t0 = Date.now()
    assert.deepEqual(await clusterGatewayUrls(h.config), [])
    assert.ok(Date.now() - t0 < CLUSTER_DISCOVERY_MS + 1500, `discovery gave up in ${Date.now() - t0} ms`)
    const r = await pull({ cid, config: h.config, name: 'no-fleet' })
    assert.ok((await readFile(r.path)).equals(bytes))
  })
})
