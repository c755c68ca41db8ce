/**
 * The service's ipfs_get and ipfs_put against a real kubo: what the Citrate
 * app does with a contract's off-chain data (put a JSON document, read it
 * back by the CID found on chain, one field of it, a file of a folder), with
 * kubo's own CIDs, and 4xx answers for bad input, too large and not found.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient, CommandError, type CitrateClient } from '@citrate-ipfs/client'
import { startService, type RunningService } from '../src/index.ts'
import { ipfs, makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'
import { chachaBytes } from '../../core/test/helpers/content.ts'

let h: TestHome
let svc: RunningService
let client: CitrateClient
let scratch: string
const kubo = async (args: string[], input?: Uint8Array): Promise<string> => (await ipfs(h.config.paths.ipfsRepo, args, input)).toString().trim()
const fails = (code: string, status: number, message?: RegExp) => (err: Error): boolean =>
  err instanceof CommandError && err.code === code && err.status === status && (message == null || message.test(err.message))

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'citrate-svc-objects-'))
  h = await makeTestHome('auto_pin = false')
  await h.manager.start()
  svc = await startService({ home: h.home, port: 0, env: h.env })
  client = createClient({ baseUrl: svc.url, token: svc.token })
})
after(async () => {
  await svc.close()
  await h.cleanup()
  await rm(scratch, { recursive: true, force: true })
})

describe('service: ipfs_put and ipfs_get (real kubo)', () => {
  const doc = { name: 'Citrate Genesis #1', attributes: [{ trait: 'rarity', value: 'legendary' }], image: { '/': 'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e' } }

  test('put json as dag-cbor gives `ipfs dag put`\'s CID, pinned; get returns the same JSON, and one field by path', async () => {
    await kubo(['block', 'put'], new TextEncoder().encode('hello world')) // the linked block, so the recursive pin finds it
    const put = await client.invoke('ipfs_put', { json: doc, codec: 'dag-cbor' })
    assert.equal(put.cid, await kubo(['dag', 'put', '--input-codec', 'dag-json', '--store-codec', 'dag-cbor'], new TextEncoder().encode(JSON.stringify(doc))))
    assert.equal(put.url, `ipfs://${put.cid}`)
    assert.equal(put.pinned, true)
    assert.ok((await kubo(['pin', 'ls', '--type=recursive', '-q'])).split('\n').includes(put.cid))

    const got = await client.invoke('ipfs_get', { cid: put.cid })
    assert.equal(got.kind, 'dag-cbor')
    assert.deepEqual(got.json, doc)
    assert.equal(got.base64, undefined)
    const rarity = await client.invoke('ipfs_get', { cid: `ipfs://${put.cid}/attributes/0/value` })
    assert.equal(rarity.json, 'legendary')
    const image = await client.invoke('ipfs_get', { cid: `${put.cid}/image` })
    assert.equal(image.kind, 'raw')
    assert.equal(Buffer.from(image.base64 ?? '', 'base64').toString(), 'hello world')
  })

  test('base64 as raw = `ipfs block put`; text as unixfs (the default) = `ipfs add`; dag-json too', async () => {
    const bytes = chachaBytes('svc-raw', 100_000)
    const raw = await client.invoke('ipfs_put', { base64: bytes.toString('base64'), codec: 'raw', pin: false })
    assert.equal(raw.cid, await kubo(['block', 'put'], bytes))
    assert.equal(raw.pinned, false)
    const text = await client.invoke('ipfs_put', { text: 'contract terms v1\n' })
    assert.equal(text.codec, 'unixfs')
    assert.equal(text.cid, await kubo(['add', '-Q', '-n'], new TextEncoder().encode('contract terms v1\n')))
    const dj = await client.invoke('ipfs_put', { json: { a: [1, 2, { b: null }] }, codec: 'dag-json' })
    assert.equal(dj.cid, await kubo(['dag', 'put', '--input-codec', 'dag-json', '--store-codec', 'dag-json'], new TextEncoder().encode('{"a":[1,2,{"b":null}]}')))
  })

  test('get of a file inside a folder answers its bytes (base64)', async () => {
    const folder = join(scratch, 'nft')
    await mkdir(join(folder, 'images'), { recursive: true })
    const png = chachaBytes('svc-png', 70_000)
    await writeFile(join(folder, 'images', '1.png'), png)
    const cid = await kubo(['add', '-r', '-Q', folder])
    const got = await client.invoke('ipfs_get', { cid: `/ipfs/${cid}/images/1.png` })
    assert.equal(got.kind, 'file')
    assert.equal(got.size, png.byteLength)
    assert.ok(Buffer.from(got.base64 ?? '', 'base64').equals(png))
  })

  test('4xx for bad input, too large and not found; never 5xx', async () => {
    const bigCid = await kubo(['add', '-Q'], chachaBytes('svc-big', 50_000))
    await assert.rejects(client.invoke('ipfs_get', { cid: bigCid, maxBytes: 49_999 }), fails('OBJECT_TOO_LARGE', 413, /50000 bytes, over the limit of 49999/))
    const missing = 'bafkreihchy3yiw6uqqnceq4tf7hzm3vm7j2chg35gfzsx2neglu7kbahya'
    await assert.rejects(client.invoke('ipfs_get', { cid: missing }), fails('CONTENT_NOT_FOUND', 404, /not found/))
    await assert.rejects(client.invoke('ipfs_get', { cid: `${bigCid}/nothing-here` }), fails('PATH_NOT_FOUND', 404))
    await assert.rejects(client.invoke('ipfs_get', { cid: `${bigCid}/../x` }), fails('INVALID_CID', 400, /"\.\."/))
    await assert.rejects(client.invoke('ipfs_get', { cid: 'not a cid' }), fails('INVALID_CID', 400))
    await assert.rejects(client.invoke('ipfs_get', { cid: bigCid, maxBytes: 0 }), fails('INVALID_ARGUMENT', 400))

    await assert.rejects(client.invoke('ipfs_put', {}), fails('INVALID_ARGUMENT', 400, /exactly one of json, text or base64/))
    await assert.rejects(client.invoke('ipfs_put', { text: 'a', base64: 'YQ==' }), fails('INVALID_ARGUMENT', 400))
    await assert.rejects(client.invoke('ipfs_put', { base64: 'not base64!' }), fails('INVALID_ARGUMENT', 400, /not valid base64/))
    await assert.rejects(client.invoke('ipfs_put', { text: '{"a":', codec: 'dag-cbor' }), fails('INVALID_ARGUMENT', 400, /not valid dag-json/))
    await assert.rejects(client.invoke('ipfs_put', { base64: Buffer.alloc(2 * 1024 * 1024 + 3).toString('base64'), codec: 'raw' }), fails('OBJECT_TOO_LARGE', 413))
    await assert.rejects(client.invoke('ipfs_put', { text: 'x'.repeat(4 * 1024 * 1024 + 1) }), fails('BODY_TOO_LARGE', 413))
    await assert.rejects(client.invoke('ipfs_put', { text: 'a', codec: 'zip' as 'raw' }), fails('INVALID_ARGUMENT', 400))
  })

  test('put with the daemon stopped is a 503 DAEMON_NOT_RUNNING, but bad input is still a 400', async () => {
    await h.manager.stop()
    try {
      await assert.rejects(client.invoke('ipfs_put', { text: 'hello' }), fails('DAEMON_NOT_RUNNING', 503))
      await assert.rejects(client.invoke('ipfs_put', { text: '{', codec: 'dag-json' }), fails('INVALID_ARGUMENT', 400))
    } finally {
      await h.manager.start()
    }
  })
})
