/**
 * A cluster peer dies during replication: a pin with replication 2..3 is
 * allocated to all three peers, and peer 2 (its cluster daemon and its kubo)
 * is killed as soon as the cluster has taken the pin. The pin still reaches
 * its two replicas on the others, and the status reports the dead peer as an
 * error, never as pinned. Its own cluster, since the kill leaves it at two peers.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { ClusterClient, clusterPin, clusterPins, type ClusterPinProgress } from '../src/index.ts'
import { startTestCluster, type TestCluster } from './helpers/cluster.ts'
import { ipfs } from './helpers/kubo.ts'

let cluster: TestCluster
before(async () => { cluster = await startTestCluster(3) })
after(async () => { await cluster?.stop() })

describe('a cluster peer killed mid-replication', () => {
  test('is reported as an error, and the pin still reaches its minimum on the other two', async () => {
    const [a, b, c] = cluster.peers
    assert.ok(a != null && b != null && c != null)
    const data = Buffer.alloc(8_000_000)
    for (let i = 0; i < data.length; i += 32) createHash('sha256').update(`fault:${i}`).digest().copy(data, i)
    const cid = (await ipfs(a.kuboRepo, ['add', '-Q', '--pin=false', '--chunker=size-65536'], data)).toString().trim()
    const client = new ClusterClient({ url: a.restUrl, timeoutMs: 15_000 })
    const events: ClusterPinProgress[] = []
    let killed = false
    const r = await clusterPin(client, cid, {
      replicationMin: 2,
      replicationMax: 3,
      timeoutMs: 120_000,
      pollMs: 100,
      onProgress: (e) => {
        events.push(e)
        // The pin is in the cluster, allocated; peer 2 has not finished fetching 8 MB yet: kill it now.
        if (e.type === 'citrate:cluster:requested' && !killed) {
          killed = true
          assert.equal(e.allocations.length, 3, 'allocated to all three peers')
          process.kill(c.clusterPid, 'SIGKILL')
          process.kill(c.kuboPid, 'SIGKILL')
        }
      }
    })
    assert.ok(killed)
    assert.equal(r.required, 2)
    assert.deepEqual(r.pinned.sort(), [a.id, b.id].sort(), `pinned on the two living peers: ${JSON.stringify(r.peers)}`)
    // The dead peer is never reported pinned, and the status says it is in error (the cluster cannot reach it).
    const deadStates = events.filter(e => e.type === 'citrate:cluster:peer' && e.peer.peer === c.id).map(e => (e as { peer: { status: string } }).peer.status)
    assert.ok(!deadStates.includes('pinned'), deadStates.join(' → '))
    const end = Date.now() + 60_000
    let dead: { state: string, status: string, error?: string } | undefined
    while (Date.now() < end) {
      const [info] = await clusterPins(client, { cid })
      dead = info?.peers.find(p => p.peer === c.id)
      if (dead?.state === 'error') break
      await new Promise(resolve => setTimeout(resolve, 250))
    }
    assert.equal(dead?.state, 'error', JSON.stringify(dead))
    assert.equal(dead?.status, 'cluster_error')
    const [info] = await clusterPins(client, { cid })
    assert.deepEqual(info?.peers.filter(p => p.state === 'pinned').map(p => p.peer).sort(), [a.id, b.id].sort())
  })
})
