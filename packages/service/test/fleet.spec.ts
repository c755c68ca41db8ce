/**
 * The service's fleet commands against a real 2-peer IPFS Cluster and its
 * Pinning Service API: status, cluster pin (progress events), pins, unpin,
 * remote services (no token), remote pin/pins/unpin; results and events
 * match the contract, bad input is a 4xx, and no answer or event ever holds
 * the pinning service's token.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { Ajv } from 'ajv'
import { COMMAND_SCHEMAS, ServiceEvent as ServiceEventSchema } from '@citrate-ipfs/contract'
import { createClient, CommandError, type CitrateClient, type ServiceEvent } from '@citrate-ipfs/client'
import { writeSecretFile } from '@citrate-ipfs/core'
import { startService, type RunningService } from '../src/index.ts'
import { ipfs, makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'
import { startTestCluster, type TestCluster } from '../../core/test/helpers/cluster.ts'
import { chachaBytes } from '../../core/test/helpers/content.ts'

const TOKEN = 'svc-fleet-token-9137'
let cluster: TestCluster
let h: TestHome
let svc: RunningService
let client: CitrateClient
const events: ServiceEvent[] = []
const answers: string[] = []
const listening = new AbortController()

before(async () => {
  cluster = await startTestCluster(2)
  const [a, b] = cluster.peers
  assert.ok(a != null && b != null)
  h = await makeTestHome([
    '[ipfs.cluster]', `url = "${a.restUrl}"`, 'replication_min = 1', 'replication_max = 2', 'pin_timeout_seconds = 120',
    '[ipfs.remote.fleet]', `endpoint = "${b.pinsvcUrl}"`
  ].join('\n'))
  await writeSecretFile(join(h.home, 'secrets', 'remote-fleet.json'), { token: TOKEN })
  svc = await startService({ home: h.home, port: 0, env: h.env })
  const raw = createClient({ baseUrl: svc.url, token: svc.token })
  // Every answer is kept, to check afterwards that none carries the token.
  client = {
    ...raw,
    invoke: (async (command: Parameters<CitrateClient['invoke']>[0], args?: Record<string, unknown>) => {
      const r = await raw.invoke(command, args as never)
      answers.push(JSON.stringify(r))
      return r
    }) as CitrateClient['invoke']
  }
  void raw.listen(e => events.push(e), { signal: listening.signal })
})
after(async () => {
  listening.abort()
  await svc?.close()
  await h?.cleanup()
  await cluster?.stop()
})

describe('service: the fleet commands (real 2-peer cluster)', () => {
  test('cluster status, pin with progress events, pins, unpin; remote services, pin, pins, unpin; all to the contract, no token served', async () => {
    const ajv = new Ajv({ strict: false })
    const [a] = cluster.peers
    assert.ok(a != null)
    const st = await client.invoke('ipfs_cluster_status')
    assert.ok(ajv.validate(COMMAND_SCHEMAS.ipfs_cluster_status.result, st), ajv.errorsText())
    assert.equal(st.self, a.id)
    assert.equal(st.peers.length, 2)

    const cid = (await ipfs(a.kuboRepo, ['add', '-Q', '--pin=false'], chachaBytes('svc-fleet', 400_000))).toString().trim()
    const pinned = await client.invoke('ipfs_cluster_pin', { cid, name: 'svc-fleet', replicationMin: 2, replicationMax: 2 })
    assert.ok(ajv.validate(COMMAND_SCHEMAS.ipfs_cluster_pin.result, pinned), ajv.errorsText())
    assert.equal(pinned.required, 2)
    assert.equal(pinned.pinned.length, 2)
    const progress = events.filter(e => e.event === 'cluster-pin-progress')
    assert.ok(progress.some(e => e.event === 'cluster-pin-progress' && e.data.type === 'citrate:cluster:done'), JSON.stringify(progress))
    assert.ok(progress.some(e => e.event === 'cluster-pin-progress' && e.data.type === 'citrate:cluster:peer' && e.data.peer.state === 'pinned'))
    const pins = await client.invoke('ipfs_cluster_pins', { cid })
    assert.ok(ajv.validate(COMMAND_SCHEMAS.ipfs_cluster_pins.result, pins), ajv.errorsText())
    assert.deepEqual(pins.pins[0]?.peers.map(p => p.state), ['pinned', 'pinned'])

    const unpinned = await client.invoke('ipfs_cluster_unpin', { cid })
    assert.equal(unpinned.unpinned, true)
    // The cluster's pinsvc endpoint is the same pinset seen through the Pinning Service API.
    const services = await client.invoke('ipfs_remote_services')
    assert.deepEqual(services.services.map(s => [s.name, s.hasToken]), [['fleet', true]])
    const remote = await client.invoke('ipfs_remote_pin', { cid, name: 'svc-remote' })
    assert.ok(ajv.validate(COMMAND_SCHEMAS.ipfs_remote_pin.result, remote), ajv.errorsText())
    assert.equal(remote.status, 'pinned')
    const remotePins = await client.invoke('ipfs_remote_pins', { service: 'fleet', cid })
    assert.deepEqual(remotePins.pins.map(p => [p.cid, p.status]), [[cid, 'pinned']])
    assert.ok(events.some(e => e.event === 'remote-pin-progress' && e.data.status === 'pinned'))
    const removed = await client.invoke('ipfs_remote_unpin', { cid, service: 'fleet' })
    assert.deepEqual(removed.removed, [remote.requestid])

    await client.invoke('ipfs_get_config')
    for (const e of events) assert.ok(ajv.validate(ServiceEventSchema, e), `${e.event} does not match the contract: ${ajv.errorsText()}`)
    for (const text of [...answers, ...events.map(e => JSON.stringify(e))]) assert.ok(!text.includes(TOKEN), 'no answer or event holds the token')
  })

  test('bad input is a 4xx naming what was wrong', async () => {
    await assert.rejects(client.invoke('ipfs_cluster_pin', { cid: 'bafkqaaa', replicationMin: 3, replicationMax: 2 }), (err: unknown) => {
      assert.ok(err instanceof CommandError)
      assert.equal(err.status, 400)
      assert.equal(err.code, 'INVALID_ARGUMENT')
      assert.match(err.message, /replication_min \(3\) is larger than replication_max \(2\)/)
      return true
    })
    await assert.rejects(client.invoke('ipfs_remote_pin', { cid: 'bafkqaaa', service: 'nope' }), (err: unknown) => {
      assert.ok(err instanceof CommandError)
      assert.equal(err.status, 404)
      assert.equal(err.code, 'PIN_SERVICE_UNKNOWN')
      assert.equal(err.message, 'no pinning service named "nope" is configured (configured: fleet)')
      return true
    })
    await assert.rejects(client.invoke('ipfs_cluster_pins', { cid: 'not-a-cid' }), (err: unknown) => err instanceof CommandError && err.status === 400 && err.code === 'INVALID_CID')
  })
})
