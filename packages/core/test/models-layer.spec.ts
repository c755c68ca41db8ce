/**
 * The models layer over every kind of entry: a dataset or checkpoint lives
 * under training/, an asset under assets/, and verifying or removing it finds
 * it there (its DAG index included), against real kubo.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { pull, registryOf, removeModel, verifyRegisteredModel } from '../src/index.ts'
import { chachaBytes, flipByte } from './helpers/content.ts'
import { ipfs, makeTestHome, type TestHome } from './helpers/kubo.ts'

let h: TestHome
let gateway: string
before(async () => {
  h = await makeTestHome('auto_pin = false')
  const { status } = await h.manager.start()
  gateway = status.gatewayUrl as string
})
after(async () => { await h?.cleanup() })

describe('models layer: datasets and checkpoints', () => {
  test('a dataset made with a non-default chunker verifies from its own DAG index, reports a flipped byte, and is removed from training/', async () => {
    const data = chachaBytes('dataset-shape', 40 * 1024 + 17)
    // 4 KiB chunks: re-hashing with kubo's standard shapes cannot give this CID, so only the DAG index can prove it.
    const cid = (await ipfs(h.config.paths.ipfsRepo, ['add', '-Q', '--pin=false', '--chunker=size-4096'], data)).toString().trim()
    const r = await pull({ cid, config: h.config, name: 'corpus', filename: 'corpus.bin', kind: 'dataset', sources: [gateway], publicGateways: [] })
    assert.equal(r.dir, join(h.config.paths.datasets, 'corpus'))
    const entry = await registryOf(h.config).get('corpus')
    assert.ok(entry != null)
    const ok = await verifyRegisteredModel(h.config, entry)
    assert.equal(ok.method, 'dag-index')

    await flipByte(r.path, 9000)
    await assert.rejects(verifyRegisteredModel(h.config, entry), { code: 'CONTENT_CORRUPT', offset: 8192 })
    assert.equal((await registryOf(h.config).get('corpus'))?.verified, false)

    // Repaired: verified again, even when the caller still holds the entry read before the failure.
    await flipByte(r.path, 9000)
    await verifyRegisteredModel(h.config, entry)
    assert.equal((await registryOf(h.config).get('corpus'))?.verified, true)

    const removed = await removeModel(h.config, 'corpus', { keepPin: true })
    assert.equal(removed.removed.id, 'corpus')
    await assert.rejects(stat(r.dir), { code: 'ENOENT' })
    assert.equal(await registryOf(h.config).get('corpus'), undefined)
  })

  test('an asset lands under assets/<id>/, verifies at rest and is removed from there', async () => {
    const data = chachaBytes('asset-bytes', 5000)
    const cid = (await ipfs(h.config.paths.ipfsRepo, ['add', '-Q', '--pin=false'], data)).toString().trim()
    const r = await pull({ cid, config: h.config, name: 'nft-7', filename: '7.png', kind: 'asset', sources: [gateway], publicGateways: [] })
    assert.equal(h.config.paths.assets, join(h.home, 'assets'))
    assert.equal(r.dir, join(h.config.paths.assets, 'nft-7'))
    assert.deepEqual(await readFile(join(r.dir, '7.png')), data)
    const entry = await registryOf(h.config).get('nft-7')
    assert.equal(entry?.kind, 'asset')
    assert.ok(entry != null)
    assert.equal((await verifyRegisteredModel(h.config, entry)).method, 'dag-index')
    assert.equal((await registryOf(h.config).get('nft-7'))?.verified, true)
    await removeModel(h.config, 'nft-7', { keepPin: true })
    await assert.rejects(stat(r.dir), { code: 'ENOENT' })
  })
})
