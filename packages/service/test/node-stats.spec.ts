/**
 * ipfs_node_stats against a real kubo: repo size, free disk, bandwidth from
 * stats/bw kept as a history across calls, the log tail; with the daemon
 * stopped, what is left (disk, log) without an error. The node runs online
 * but loopback-only (see goOnlineLoopbackOnly), since offline kubo refuses stats/bw. And pin sizes in
 * ipfs_get_pins, kubo's own empty-folder pin included.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Ajv } from 'ajv'
import { COMMAND_SCHEMAS, KUBO_EMPTY_FOLDER_CID } from '@citrate-ipfs/contract'
import { createClient, type CitrateClient } from '@citrate-ipfs/client'
import { startService, type RunningService } from '../src/index.ts'
import { makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'
import { goOnlineLoopbackOnly } from '../../ui/test/helpers/online.ts'

let h: TestHome
let svc: RunningService
let client: CitrateClient
const ajv = new Ajv({ strict: false })

before(async () => {
  h = await makeTestHome()
  await goOnlineLoopbackOnly(h)
  await h.manager.start()
  svc = await startService({ home: h.home, port: 0, env: h.env })
  client = createClient({ baseUrl: svc.url, token: svc.token })
})
after(async () => {
  await svc?.close()
  await h?.cleanup()
})

describe('service: node stats', () => {
  test('a running node: peers, repo size, free disk, bandwidth with a growing history, the log tail', async () => {
    const first = await client.invoke('ipfs_node_stats', {})
    const second = await client.invoke('ipfs_node_stats', { log_lines: 5 })
    assert.ok(ajv.validate(COMMAND_SCHEMAS.ipfs_node_stats.result, second), ajv.errorsText())
    assert.equal(second.running, true)
    assert.equal(second.offline, false)
    assert.equal(second.peers, 0, 'a loopback-only node with no bootstrap peers has none')
    assert.ok((second.repo?.size_bytes ?? 0) > 0, JSON.stringify(second.repo))
    assert.ok((second.disk?.free_bytes ?? 0) > 0 && (second.disk?.total_bytes ?? 0) >= (second.disk?.free_bytes ?? 0))
    assert.ok(second.bandwidth != null, `stats/bw answered (${second.notes.join('; ')})`)
    assert.equal(second.history.length, first.history.length + 1)
    assert.ok(second.history.every((s, i) => i === 0 || s.at >= (second.history[i - 1]?.at ?? 0)), 'oldest first')
    assert.ok(second.log_tail.split('\n').filter(l => l !== '').length <= 5)
    assert.match(first.log_tail, /Daemon is ready|API server listening/)
  })

  test('pins carry their sizes; kubo\'s empty folder is 4 bytes', async () => {
    const { pins } = await client.invoke('ipfs_get_pins')
    const empty = pins.find(p => p.cid === KUBO_EMPTY_FOLDER_CID)
    assert.equal(empty?.size_bytes, 4)
  })

  test('a stopped node: not running, no bandwidth, still disk and log; no error', async () => {
    await client.invoke('ipfs_stop_daemon')
    const s = await client.invoke('ipfs_node_stats', {})
    assert.equal(s.running, false)
    assert.equal(s.bandwidth, undefined)
    assert.ok((s.disk?.free_bytes ?? 0) > 0)
  })
})
