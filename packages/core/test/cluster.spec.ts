/**
 * The cluster library against a real 3-peer IPFS Cluster (v1.1.0, each peer
 * with its own kubo): status with every peer's kubo and free space; a pin
 * with replication 2..3 and one with 2..2 followed peer by peer to pinned on
 * the right number of kubos; the pinset; unpin; and a cluster that refuses
 * connections or never answers gives a clear error within its timeout.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createServer, type Server, type Socket } from 'node:net'
import {
  ClusterClient, clusterPin, clusterPins, clusterStatus, clusterUnpin, kuboVersionFromAgent, CitrateError,
  type ClusterPinProgress
} from '../src/index.ts'
import { startTestCluster, type TestCluster } from './helpers/cluster.ts'
import { ipfs, tcpPeersOf } from './helpers/kubo.ts'
import { freePort } from '../src/util/ports.ts'

let cluster: TestCluster
before(async () => { cluster = await startTestCluster(3) })
after(async () => { await cluster?.stop() })

function content (label: string, size: number): Buffer {
  const data = Buffer.alloc(size)
  for (let i = 0; i < data.length; i += 32) createHash('sha256').update(`${label}:${i}`).digest().copy(data, i)
  return data
}

async function kuboHasPin (apiUrl: string, cid: string): Promise<boolean> {
  const res = await fetch(`${apiUrl}/api/v0/pin/ls?arg=${cid}&type=recursive`, { method: 'POST' })
  const body = await res.json() as { Keys?: Record<string, unknown> }
  return body.Keys?.[cid] != null
}

async function eventually<T> (what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms
  let last: unknown
  while (Date.now() < end) {
    last = await probe()
    if (last !== undefined) return last as T
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  throw new Error(`${what}: not within ${ms} ms`)
}

describe('cluster library against a real 3-peer cluster', () => {
  test('status: three peers, each with its kubo id and version, and free space', async () => {
    const [a] = cluster.peers
    assert.ok(a != null)
    const client = new ClusterClient({ url: a.restUrl, timeoutMs: 10_000 })
    // The version of another peer's kubo, asked through peer 0's kubo (connected to it by the cluster).
    const kuboVersionOf = async (peerId: string): Promise<string | undefined> => {
      const res = await fetch(`${a.kuboApiUrl}/api/v0/id?arg=${peerId}`, { method: 'POST' })
      if (!res.ok) return undefined
      return kuboVersionFromAgent(((await res.json()) as { AgentVersion?: string }).AgentVersion ?? '')
    }
    const st = await clusterStatus(client, { kuboVersionOf })
    assert.equal(st.self, a.id)
    assert.equal(st.version, '1.1.0')
    assert.deepEqual(st.peers.map(p => p.id).sort(), cluster.peers.map(p => p.id).sort())
    assert.deepEqual(st.peers.map(p => p.peername), ['peer-0', 'peer-1', 'peer-2'])
    for (const p of st.peers) {
      assert.match(p.ipfs.id, /^12D3Koo/)
      assert.ok(p.ipfs.addresses.every(x => x.startsWith('/ip4/127.0.0.1/')), `kubo addresses on loopback: ${p.ipfs.addresses.join(' ')}`)
      assert.ok(typeof p.freeSpace === 'number' && p.freeSpace > 0, `free space of ${p.peername}: ${String(p.freeSpace)}`)
    }
    // Peer 0's own kubo answers its own id; the two others through the swarm.
    assert.deepEqual(st.peers.map(p => p.ipfs.version), ['0.43.0', '0.43.0', '0.43.0'])
  })

  test('pin with replication 2..3 is followed per peer to pinned on all three kubos; 2..2 pins exactly two', async () => {
    const [a, b, c] = cluster.peers
    assert.ok(a != null && b != null && c != null)
    const data = content('cluster-pin', 3_000_000)
    const cid = (await ipfs(a.kuboRepo, ['add', '-Q', '--pin=false', '--chunker=size-65536'], data)).toString().trim()
    const events: ClusterPinProgress[] = []
    const client = new ClusterClient({ url: b.restUrl, timeoutMs: 10_000 })
    const r = await clusterPin(client, cid, { name: 'replicated', replicationMin: 2, replicationMax: 3, timeoutMs: 120_000, pollMs: 100, onProgress: e => events.push(e) })
    assert.equal(r.required, 2)
    assert.ok(r.pinned.length >= 2, `pinned on ${r.pinned.length}`)
    assert.equal(r.name, 'replicated')
    // Per-peer progress: every peer reported, each one's states never go back from pinned, the pinned ones end pinned.
    const perPeer = new Map<string, string[]>()
    for (const e of events) if (e.type === 'citrate:cluster:peer') perPeer.set(e.peer.peer, [...(perPeer.get(e.peer.peer) ?? []), e.peer.state])
    assert.equal(perPeer.size, 3, JSON.stringify(events))
    for (const id of r.pinned) assert.equal(perPeer.get(id)?.at(-1), 'pinned')
    for (const states of perPeer.values()) {
      const i = states.indexOf('pinned')
      if (i >= 0) assert.ok(states.slice(i).every(s => s === 'pinned'), states.join(' → '))
    }
    assert.equal(events[0]?.type, 'citrate:cluster:requested')
    assert.deepEqual(events.at(-1), { type: 'citrate:cluster:done', cid, pinned: r.pinned.length, required: 2 })
    const counts = events.filter(e => e.type === 'citrate:cluster:progress').map(e => (e as { pinned: number }).pinned)
    assert.deepEqual(counts, [...counts].sort((x, y) => x - y), 'pinned counts only grow')
    // Max 3 of 3 peers: the cluster goes on to pin it everywhere; every kubo holds it.
    await eventually('all three kubos pin it', async () => (await Promise.all(cluster.peers.map(p => kuboHasPin(p.kuboApiUrl, cid)))).every(Boolean) ? true : undefined)
    const [listed] = await clusterPins(client, { cid })
    assert.deepEqual(listed?.peers.map(p => p.state), ['pinned', 'pinned', 'pinned'])

    // 2..2: exactly two peers pin; the third holds it as "remote".
    const cid2 = (await ipfs(a.kuboRepo, ['add', '-Q', '--pin=false'], content('cluster-pin-2', 200_000))).toString().trim()
    const r2 = await clusterPin(client, cid2, { replicationMin: 2, replicationMax: 2, timeoutMs: 120_000, pollMs: 100 })
    assert.equal(r2.allocations.length, 2)
    assert.deepEqual(r2.pinned.sort(), [...r2.allocations].sort())
    const third = r2.peers.find(p => !r2.allocations.includes(p.peer))
    assert.equal(third?.state, 'remote')
    const holders = await Promise.all(cluster.peers.map(async p => await kuboHasPin(p.kuboApiUrl, cid2)))
    assert.equal(holders.filter(Boolean).length, 2, `kubos pinning it: ${holders.join(',')}`)

    // The pinset lists both.
    const all = await clusterPins(client)
    assert.ok(all.some(p => p.cid === cid) && all.some(p => p.cid === cid2), all.map(p => p.cid).join(' '))

    // Unpin: every peer's kubo lets it go; a second unpin says there was nothing.
    assert.equal(await clusterUnpin(client, cid), true)
    await eventually('no kubo pins it', async () => (await Promise.all(cluster.peers.map(p => kuboHasPin(p.kuboApiUrl, cid)))).every(x => !x) ? true : undefined)
    const [gone] = await clusterPins(client, { cid })
    assert.ok(gone?.peers.every(p => p.state === 'unpinned'), JSON.stringify(gone?.peers))
    assert.equal(await clusterUnpin(client, cid), false)
    assert.ok(!(await clusterPins(client)).some(p => p.cid === cid))

    // Nothing listens (or is bound) beyond 127.0.0.1: every TCP socket of every peer and kubo has a loopback
    // local address. UDP is left out on purpose: ipfs-cluster-service 1.1.0 always enables go-libp2p's
    // NATPortMap, whose NAT discovery (UPnP/NAT-PMP, its first 10 s) holds a UDP socket on 0.0.0.0 and no
    // service.json key turns it off (see README, "Fleet").
    for (const p of cluster.peers) {
      for (const [what, pid] of [['cluster', p.clusterPid], ['kubo', p.kuboPid]] as const) {
        const sockets = (await tcpPeersOf(pid)).filter(x => x.startsWith('tcp'))
        assert.ok(sockets.length > 0, `pid ${pid} has sockets`)
        const wide = sockets.filter(x => !/^\S+ 127\.\d+\.\d+\.\d+:\d+ -> /.test(x))
        assert.deepEqual(wide, [], `peer ${p.index}'s ${what} (pid ${pid}) binds loopback only`)
      }
    }
  })

  test('content no peer can find: REPLICATION_INCOMPLETE after the timeout, naming each peer\'s state; the pin stays until unpinned', async () => {
    const [a] = cluster.peers
    assert.ok(a != null)
    // A CID of bytes that exist nowhere (hashed here, never added): every peer's kubo looks for it in vain.
    const cid = (await ipfs(a.kuboRepo, ['add', '-Q', '--only-hash'], content('nowhere', 5000))).toString().trim()
    const client = new ClusterClient({ url: a.restUrl, timeoutMs: 10_000 })
    await assert.rejects(clusterPin(client, cid, { replicationMin: 2, replicationMax: 2, timeoutMs: 3_000, pollMs: 200 }), (err: unknown) => {
      assert.ok(err instanceof CitrateError)
      assert.equal(err.code, 'REPLICATION_INCOMPLETE')
      assert.match(err.message, new RegExp(`^${cid} is pinned on 0 of the 2 cluster peers required after 3 s; peer-\\d (pinning|queued), peer-\\d (pinning|queued); the cluster keeps`))
      assert.match(err.message, /the cluster keeps the pin and goes on trying$/)
      return true
    })
    assert.ok((await clusterPins(client)).some(p => p.cid === cid), 'still in the pinset')
    assert.equal(await clusterUnpin(client, cid), true)
  })

  test('a cluster that refuses connections, or never answers, is a clear CLUSTER_UNREACHABLE within its timeout', async () => {
    const closed = new ClusterClient({ url: `http://127.0.0.1:${await freePort()}`, timeoutMs: 5_000 })
    await assert.rejects(closed.peers(), (err: unknown) => {
      assert.ok(err instanceof CitrateError)
      assert.equal(err.code, 'CLUSTER_UNREACHABLE')
      assert.match(err.message, /ECONNREFUSED/)
      return true
    })
    // A listener that accepts and never says a word.
    const sockets: Socket[] = []
    const silent: Server = createServer(s => { sockets.push(s) })
    await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
    try {
      const port = (silent.address() as { port: number }).port
      const mute = new ClusterClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 1_500 })
      await assert.rejects(clusterPin(mute, 'bafkqaaa', { timeoutMs: 60_000 }), (err: unknown) => {
        assert.ok(err instanceof CitrateError)
        assert.equal(err.code, 'CLUSTER_UNREACHABLE')
        assert.match(err.message, /no answer within 1500 ms/)
        return true
      })
    } finally {
      for (const s of sockets) s.destroy()
      await new Promise(resolve => silent.close(resolve))
    }
  })
})
