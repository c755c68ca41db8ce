/**
 * The IPFS Cluster test infrastructure (issue 15, item 1): three real peers
 * with their own kubos form one CRDT cluster on loopback; a pin made through
 * one peer's REST API is pinned by every peer's kubo (the blocks travel
 * between the kubos only), the Pinning Service API answers, and nothing
 * listens or connects beyond 127.0.0.1 — from each peer's first moment: the
 * test build of IPFS Cluster has go-libp2p NAT port mapping patched out
 * (tools/cluster/patches/no-nat.patch), which would otherwise hold a UDP
 * socket on 0.0.0.0 and probe the LAN's gateway for the first ~10 s.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { isLoopbackOnlySocket, startTestCluster, type TestCluster } from './helpers/cluster.ts'
import { ipfs, isLoopbackOrUnbound, tcpPeersOf } from './helpers/kubo.ts'

let cluster: TestCluster
before(async () => { cluster = await startTestCluster(3, { watchSockets: true }) })
after(async () => { await cluster?.stop() })

describe('a 3-peer test cluster', () => {
  test('a pin through one peer is pinned on all three kubos; the pinning service API answers; loopback only', async () => {
    const [a, b, c] = cluster.peers
    assert.ok(a != null && b != null && c != null)
    const data = Buffer.alloc(700_000)
    for (let i = 0; i < data.length; i += 32) createHash('sha256').update(`cluster:${i}`).digest().copy(data, i)
    const cid = (await ipfs(a.kuboRepo, ['add', '-Q', '--pin=false', '--chunker=size-65536'], data)).toString().trim()
    const pin = await fetch(`${a.restUrl}/pins/${cid}?name=infra-test`, { method: 'POST' })
    assert.equal(pin.status, 200, await pin.clone().text())
    // Every peer reports pinned (status via any peer's REST API, global view).
    const end = Date.now() + 60_000
    let statuses: string[] = []
    let seen = ''
    while (Date.now() < end) {
      const st = await (await fetch(`${c.restUrl}/pins/${cid}`)).json() as { peer_map?: Record<string, { status: string }> }
      seen = JSON.stringify(st.peer_map)
      statuses = Object.values(st.peer_map ?? {}).map(p => p.status)
      if (statuses.length === 3 && statuses.every(s => s === 'pinned')) break
      await new Promise(resolve => setTimeout(resolve, 200))
    }
    assert.deepEqual(statuses, ['pinned', 'pinned', 'pinned'], `peer map: ${seen}; peers ${cluster.peers.map(p => `${p.index}=${p.id}`).join(' ')}`)
    for (const p of cluster.peers) {
      const ls = await (await fetch(`${p.kuboApiUrl}/api/v0/pin/ls?arg=${cid}&type=recursive`, { method: 'POST' })).json() as { Keys?: Record<string, unknown> }
      assert.ok(ls.Keys?.[cid] != null, `peer ${p.index}'s kubo pinned it`)
    }
    const cat = await ipfs(c.kuboRepo, ['cat', '--offline', cid])
    assert.ok(cat.equals(data), 'the third kubo holds exact bytes')
    // The Pinning Service API lists it.
    const svc = await (await fetch(`${b.pinsvcUrl}/pins?cid=${cid}`, { headers: { authorization: 'Bearer x' } })).json() as { count?: number, results?: Array<{ status: string, pin: { cid: string } }> }
    assert.equal(svc.results?.[0]?.pin.cid, cid)
    assert.equal(svc.results?.[0]?.status, 'pinned')
    for (const p of cluster.peers) {
      for (const pid of [p.kuboPid, p.clusterPid]) {
        const remote = (await tcpPeersOf(pid)).filter(s => !isLoopbackOrUnbound(s.split(' -> ')[1] ?? ''))
        assert.deepEqual(remote, [], `pid ${pid} talks to loopback only`)
      }
    }
  })

  test('every cluster peer, from its spawn through its first 15 s, holds no TCP or UDP socket bound or connected beyond loopback', async () => {
    const seen = await cluster.socketsSeen(15_000)
    assert.equal(seen.length, 3)
    for (const [i, w] of seen.entries()) {
      const peer = cluster.peers[i]
      assert.ok(peer != null && peer.clusterPid === w.pid)
      // The watch saw the peer at all: its own libp2p listener is among what it recorded.
      assert.ok([...w.sockets.keys()].some(l => l.startsWith(`tcp ${peer.clusterListen} -> `)), `peer ${i}: its listener ${peer.clusterListen} was seen (${w.samples} samples)`)
      const beyond = [...w.sockets].filter(([line]) => !isLoopbackOnlySocket(line)).map(([line, ms]) => `${line} (at ${ms} ms)`)
      assert.deepEqual(beyond, [], `peer ${i} (pid ${w.pid}, ${w.samples} samples over ${w.watchedMs} ms) held sockets beyond loopback`)
    }
  })
})
