import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import lockfile from 'proper-lockfile'
import {
  addToKubo, collectGarbage, KuboRpc, ModelRegistry, PinInUseError, PinTimeoutError, pinAdd, pinList, pinRm, readRpcSecret,
  type ModelEntry, type PinProgressEvent
} from '../src/index.ts'
import { makeTestHome, type TestHome } from './helpers/kubo.ts'
import { writeChachaFile } from './helpers/content.ts'

function entry (id: string, cid: string): ModelEntry {
  return { id, name: id, cid, size_bytes: 1, quantization: null, downloaded_at: new Date().toISOString(), path: `/m/${id}`, source: 'local', source_url: null, verified: true, kind: 'model' }
}

async function isPinned (rpc: KuboRpc, cid: string): Promise<boolean> {
  const res = await rpc.json<{ Keys?: Record<string, unknown> }>('pin/ls', { arg: cid, type: 'recursive' }).catch(() => undefined)
  return Object.keys(res?.Keys ?? {}).length > 0
}

/**
 * A loopback proxy in front of the real kubo that lets `pin/add` run to the end
 * in kubo but holds its answer back, so the client's timeout fires while kubo
 * has in fact pinned: the hardest case for "a timeout leaves no stray pin".
 */
async function stallingProxy (upstream: string, stallMs: number): Promise<{ url: string, server: Server, pinFinished: Promise<void> }> {
  let finishPin = (): void => {}
  const pinFinished = new Promise<void>(resolve => { finishPin = resolve })
  const server = createServer((req, res) => {
    void (async () => {
      const path = req.url ?? '/'
      if (path.includes('/pin/rm')) await pinFinished
      // The RPC secret passes through: kubo refuses the call without it.
      const upstreamRes = await fetch(upstream + path, { method: 'POST', headers: req.headers.authorization != null ? { authorization: req.headers.authorization } : {} })
      const text = await upstreamRes.text()
      if (path.includes('/pin/add')) {
        finishPin()
        await new Promise(resolve => setTimeout(resolve, stallMs))
      }
      if (!res.destroyed) res.writeHead(upstreamRes.status, { 'content-type': 'application/json' }).end(text)
    })().catch(() => { res.destroy() })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const addr = server.address()
  const port = typeof addr === 'object' && addr != null ? addr.port : 0
  return { url: `http://127.0.0.1:${port}`, server, pinFinished }
}

describe('pins against real kubo', () => {
  let t: TestHome
  let rpc: KuboRpc
  let unpinnedCid: string
  let registry: ModelRegistry
  before(async () => {
    t = await makeTestHome()
    await t.manager.start()
    rpc = await t.manager.rpc()
    registry = new ModelRegistry({ modelsDir: t.config.paths.models })
    const content = join(t.home, 'content')
    await mkdir(content, { recursive: true })
    await writeChachaFile(join(content, 'weights.bin'), 'pins', 3_000_000)
    // Small chunks make thousands of blocks for pin/add to walk.
    unpinnedCid = (await addToKubo(rpc, join(content, 'weights.bin'), { chunker: 'size-1000', pin: false })).cid
  })
  after(async () => { await t.cleanup() })

  test('pin reports progress in blocks and bytes, then pins; pinning again is a no-op', async () => {
    assert.equal(await isPinned(rpc, unpinnedCid), false)
    const events: PinProgressEvent[] = []
    const res = await pinAdd(rpc, unpinnedCid, { timeoutSeconds: 60, name: 'weights', onProgress: e => events.push(e) })
    assert.equal(res.alreadyPinned, false)
    assert.ok(res.blocks > 3000, `walked ${res.blocks} blocks`)
    assert.ok((res.bytes ?? 0) >= 3_000_000, `counted ${res.bytes} bytes`)
    const progress = events.filter(e => e.type === 'citrate:pin:progress')
    assert.ok(progress.length >= 1)
    assert.deepEqual(events.at(-1), { type: 'citrate:pin:done', cid: unpinnedCid, alreadyPinned: false })
    assert.equal(await isPinned(rpc, unpinnedCid), true)
    assert.equal((await pinAdd(rpc, unpinnedCid, { timeoutSeconds: 60 })).alreadyPinned, true)
  })

  test('pins are listed as a stream with their names and the registry models they back', async () => {
    await registry.upsert(entry('weights-model', unpinnedCid))
    // The same hash spelled as CIDv1 still counts as the same content.
    await registry.upsert(entry('weights-v1-spelling', CID.parse(unpinnedCid).toV1().toString()))
    const seen = []
    for await (const p of pinList(rpc, { models: await registry.list() })) seen.push(p)
    const mine = seen.find(p => p.cid === unpinnedCid)
    assert.equal(mine?.name, 'weights')
    assert.deepEqual(mine?.models, ['weights-model', 'weights-v1-spelling'])
  })

  test('unpinning content a registry model relies on needs force', async () => {
    const err = await pinRm(rpc, unpinnedCid, { models: await registry.list() }).catch((e: unknown) => e)
    assert.ok(err instanceof PinInUseError)
    assert.equal(err.code, 'PIN_IN_USE')
    assert.deepEqual(err.models, ['weights-model', 'weights-v1-spelling'])
    assert.equal(await isPinned(rpc, unpinnedCid), true)
    const res = await pinRm(rpc, unpinnedCid, { models: await registry.list(), force: true })
    assert.deepEqual(res.models, ['weights-model', 'weights-v1-spelling'])
    assert.equal(await isPinned(rpc, unpinnedCid), false)
  })

  test('a pin that outlives pin_timeout_seconds fails with PIN_TIMEOUT and leaves no pin behind', async () => {
    const proxy = await stallingProxy(rpc.baseUrl, 4000)
    try {
      const started = Date.now()
      const err = await pinAdd(new KuboRpc(proxy.url, { secret: await readRpcSecret(t.config.paths.rpcSecret) }), unpinnedCid, { timeoutSeconds: 1 }).catch((e: unknown) => e)
      assert.ok(err instanceof PinTimeoutError, String(err))
      assert.equal(err.code, 'PIN_TIMEOUT')
      assert.match(err.message, /1 s/)
      assert.ok(Date.now() - started < 3500, 'gave up at the timeout, not when kubo answered')
      await proxy.pinFinished
      assert.equal(await isPinned(rpc, unpinnedCid), false, 'kubo finished the pin, and the cleanup removed it')
    } finally {
      proxy.server.closeAllConnections()
      proxy.server.close()
    }
  })

  test('gc frees unpinned blocks in kubo, stale partial files and abandoned pulls, keeping fresh and running ones', async () => {
    const models = t.config.paths.models
    await mkdir(join(models, 'some-model'), { recursive: true })
    const stale = join(models, 'some-model', 'model.gguf.partial')
    const staleSidecar = join(models, 'some-model', 'model.gguf.partial.json')
    const fresh = join(models, 'other.gguf.partial')
    const kept = join(models, 'some-model', 'model.gguf')
    for (const f of [stale, staleSidecar, fresh, kept]) await writeFile(f, 'x'.repeat(10))
    const old = new Date(Date.now() - 48 * 3600_000)
    for (const f of [stale, staleSidecar, kept]) await utimes(f, old, old)
    // Resumable pulls: an abandoned one goes, a locked (running) one and a recent one stay.
    const pulls = join(t.home, 'tmp', 'pulls', 'v1')
    const [abandoned, running, recent] = ['bafyabandoned', 'bafyrunning', 'bafyrecent'].map(n => join(pulls, n)) as [string, string, string]
    for (const d of [abandoned, running, recent]) {
      await mkdir(join(d, 'blocks'), { recursive: true })
      await writeFile(join(d, 'content'), 'y'.repeat(100))
      await writeFile(join(d, 'leaves.log'), '')
    }
    for (const d of [abandoned, running]) for (const f of [join(d, 'content'), join(d, 'leaves.log'), join(d, 'blocks'), d]) await utimes(f, old, old)
    const release = await lockfile.lock(running, { realpath: false, lockfilePath: `${running}.lock` })
    // Kept by gc: a pinned DAG (recursive) and a directly pinned block, beside thousands of unpinned blocks.
    await writeChachaFile(join(t.home, 'content', 'kept.bin'), 'kept', 300_000)
    const keptCid = (await addToKubo(rpc, join(t.home, 'content', 'kept.bin'), { chunker: 'size-10000', pin: true })).cid
    await writeChachaFile(join(t.home, 'content', 'direct.bin'), 'direct', 500)
    const directCid = (await addToKubo(rpc, join(t.home, 'content', 'direct.bin'), { pin: false, rawLeaves: true })).cid
    await rpc.json('pin/add', { arg: directCid, recursive: false })
    // A dry run reports exactly what the real run then frees, in blocks and bytes (and removes nothing).
    const before = await rpc.json<{ NumObjects: number }>('repo/stat')
    const dry = await collectGarbage(rpc, [models], { citrateHome: t.home, dryRun: true })
    assert.equal((await rpc.json<{ NumObjects: number }>('repo/stat')).NumObjects, before.NumObjects, 'the dry run removed no block')
    const res = await collectGarbage(rpc, [models], { citrateHome: t.home }).finally(release)
    assert.ok(res.blocksFreed > 3000, `freed ${res.blocksFreed} blocks`)
    assert.equal(dry.blocksFreed, res.blocksFreed, 'dry run: the same block count')
    assert.equal(dry.bytesFreed, res.bytesFreed, 'dry run: the same bytes')
    assert.ok(res.bytesFreed > 3000 * 1024, `freed ${res.bytesFreed} B`)
    assert.deepEqual(dry.partialFiles.sort(), res.partialFiles.sort(), 'dry run: the same partial files')
    for (const cid of [keptCid, directCid]) await rpc.json('block/stat', { arg: cid, offline: true })
    assert.deepEqual(res.partialFiles.sort(), [stale, staleSidecar, abandoned].sort())
    assert.equal(res.partialBytes, 120)
    assert.deepEqual((await readdir(pulls)).filter(n => !n.endsWith('.lock')).sort(), ['bafyrecent', 'bafyrunning'])
    assert.deepEqual((await readdir(join(models, 'some-model'))).sort(), ['model.gguf'])
    assert.deepEqual((await readdir(models)).filter(n => n.endsWith('.partial')), ['other.gguf.partial'])
    const stat = await rpc.json<{ NumObjects: number }>('repo/stat')
    assert.ok(stat.NumObjects < 100, `repo left with ${stat.NumObjects} blocks`)
  })
})
