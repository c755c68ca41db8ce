/**
 * auto_pin when the daemon is not running (issue 11, item 8): the pull says
 * "not pinned" and why, the registry records it, and the next `daemon start`
 * pins it from the verified bytes on disk (kubo fetches nothing: it is offline
 * and the content exists only in our models folder and the other kubo).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { ModelRegistry } from '@citrate-ipfs/core'
import { ipfs, makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'
import { runCli, type Run } from './helpers/cli.ts'

/** Public gateways replaced by none: loopback only. */
const cli = (h: TestHome, args: string[]): Promise<Run> => runCli(h, args, { CITRATE_IPFS_PUBLIC_GATEWAYS: '' })

let origin: TestHome
let gateway: string
let h: TestHome
before(async () => {
  origin = await makeTestHome('auto_pin = false')
  gateway = (await origin.manager.start()).status.gatewayUrl
  // auto_pin on, our daemon installed but not running: the content comes from the other kubo's gateway.
  h = await makeTestHome(`auto_pin = true\nexternal_gateway = ${JSON.stringify(gateway)}`)
})
after(async () => {
  await h?.cleanup()
  await origin?.cleanup()
})

describe('auto_pin without a running daemon', () => {
  test('the pull says not pinned and why; the registry records it; daemon start pins it from disk', async () => {
    const data = Buffer.alloc(900_000)
    for (let i = 0; i < data.length; i += 32) createHash('sha256').update(`auto-pin:${i}`).digest().copy(data, i)
    const cid = (await ipfs(origin.config.paths.ipfsRepo, ['add', '-Q', '--pin=false', '--chunker=size-65536'], data)).toString().trim()

    const human = await cli(h, ['pull', cid, '--name', 'later-pinned'])
    assert.equal(human.code, 0, human.stderr)
    assert.match(human.stderr, /not pinned: the daemon is not running; it is pinned when the daemon starts \(`citrate-ipfs daemon start`/)
    const entry = await new ModelRegistry({ modelsDir: h.config.paths.models }).get('later-pinned')
    assert.equal(entry?.pin_pending, true, 'the registry records the missing pin')

    const started = await cli(h, ['daemon', 'start', '--json'])
    assert.equal(started.code, 0, started.stderr)
    const out = JSON.parse(started.stdout.trim().split('\n').at(-1) ?? '') as { pendingPins: { pinned: string[], failed: unknown[] } }
    assert.deepEqual(out.pendingPins, { pinned: ['later-pinned'], failed: [] })
    const rpc = await h.manager.rpc()
    const pins = await rpc.json<{ Keys?: Record<string, unknown> }>('pin/ls', { arg: cid, type: 'recursive' })
    assert.ok(pins.Keys?.[cid] != null, 'pinned in our kubo')
    assert.equal((await new ModelRegistry({ modelsDir: h.config.paths.models }).get('later-pinned'))?.pin_pending, undefined, 'the mark is cleared')
    // Every block is in our kubo now (offline: it could only have come from the bytes we handed it).
    const cat = await rpc.request('cat', { arg: cid, offline: true }, { timeoutMs: 10_000 })
    assert.ok(Buffer.from(await cat.arrayBuffer()).equals(data), 'kubo holds exact bytes')

    const again = await cli(h, ['pin', '--registered'])
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /no registered model is waiting for a pin/)
    const both = await cli(h, ['pin', cid, '--registered'])
    assert.equal(both.code, 2)
  })
})
