/**
 * get / put of small objects (assets, contract off-chain data) against a real
 * kubo: put with each codec gives exactly the CID kubo's own `ipfs block put`,
 * `ipfs dag put --store-codec …` and `ipfs add` give; get reads back what was
 * put (dag-cbor as dag-json), files and paths inside folders and across links,
 * refuses over its cap, fails clearly on a CID nobody has, and never takes a
 * wrong block from a gateway.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CarReader } from '@ipld/car'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import {
  AbortedError, AllSourcesFailedError, ContentNotFoundError, GatewaySource, getObject, InvalidArgumentError, InvalidContentPathError, ObjectTooLargeError, PathNotFoundError,
  putObject, resolveSources, TimeoutError, verifyBlock, type BlockSource, type KuboRpc
} from '../src/index.ts'
import { chachaBytes } from './helpers/content.ts'
import { addBytes, ipfs, makeTestHome, testKuboBinary, type TestHome } from './helpers/kubo.ts'
import { initRepo } from '../src/daemon/repo.ts'

let h: TestHome
let repo: string
let dir: string
let rpc: KuboRpc
let sources: BlockSource[]
const enc = new TextEncoder()
const dec = new TextDecoder()

before(async () => {
  h = await makeTestHome('auto_pin = false')
  repo = h.config.paths.ipfsRepo
  // Folders past 1 KiB of links become HAMT shards with fanout 16 (kubo's default: 256 KiB, 256), so a HAMT path has sub-shards.
  await initRepo(testKuboBinary(), repo, ['test'])
  await ipfs(repo, ['config', 'Import.UnixFSHAMTDirectorySizeThreshold', '1KiB'])
  await ipfs(repo, ['config', '--json', 'Import.UnixFSHAMTDirectoryMaxFanout', '16'])
  await h.manager.start()
  dir = await mkdtemp(join(tmpdir(), 'citrate-objects-'))
  const resolved = await resolveSources({ config: h.config, env: h.env, publicGateways: [] })
  assert.ok(resolved.daemonRpc != null)
  rpc = resolved.daemonRpc
  // The daemon's gateway alone: the test home's fallback (127.0.0.1:9) answers nothing.
  sources = resolved.sources.filter(s => s.kind === 'daemon')
  assert.equal(sources.length, 1)
})
after(async () => {
  await h?.cleanup()
  if (dir != null) await rm(dir, { recursive: true, force: true })
})

const kubo = async (args: string[], input?: Uint8Array): Promise<string> => (await ipfs(repo, args, input)).toString().trim()
const recursivePins = async (): Promise<string> => await kubo(['pin', 'ls', '--type=recursive', '-q'])

/** A contract-style document: nested maps and lists, a link, bytes, unicode, numbers. */
async function contractDoc (): Promise<{ text: string, linked: string }> {
  const linked = await kubo(['block', 'put'], enc.encode('linked asset bytes'))
  const text = JSON.stringify({
    name: 'Citrate asset #7 — ünïcode',
    supply: 1000,
    ratio: -3,
    tags: ['model', 'gguf', { nested: true }],
    image: { '/': linked },
    salt: { '/': { bytes: 'aGVsbG8gd29ybGQ' } },
    nothing: null
  })
  return { text, linked }
}

describe('put gives the CID kubo gives for the same input', () => {
  test('raw = `ipfs block put` (CIDv1, raw, sha2-256), pinned', async () => {
    for (const bytes of [new Uint8Array(0), enc.encode('hello world'), chachaBytes('put-raw', 1024 * 1024 + 7)]) {
      const ours = await putObject(bytes, { codec: 'raw', rpc })
      const theirs = await kubo(['block', 'put'], bytes)
      assert.equal(ours.cid, theirs)
      assert.equal(ours.target, 'kubo')
      assert.equal(ours.pinned, true)
      assert.ok((await recursivePins()).split('\n').includes(ours.cid), `${ours.cid} is not pinned`)
    }
    assert.equal((await putObject(enc.encode('hello world'), { codec: 'raw' })).cid, 'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e')
  })

  test('dag-cbor and dag-json = `ipfs dag put --input-codec dag-json --store-codec …`', async () => {
    const { text } = await contractDoc()
    for (const codec of ['dag-cbor', 'dag-json'] as const) {
      const ours = await putObject(enc.encode(text), { codec, rpc })
      const theirs = await kubo(['dag', 'put', '--input-codec', 'dag-json', '--store-codec', codec], enc.encode(text))
      assert.equal(ours.cid, theirs, codec)
      assert.equal(CID.parse(ours.cid).code, codec === 'dag-cbor' ? 0x71 : 0x0129)
      assert.ok((await recursivePins()).split('\n').includes(ours.cid))
      // Hash-only gives the same CID without a daemon.
      assert.equal((await putObject(enc.encode(text), { codec })).cid, ours.cid)
    }
  })

  test('unixfs = `ipfs add` with its defaults (0 B, 1 B, one chunk + 1)', async () => {
    for (const [i, bytes] of [new Uint8Array(0), enc.encode('x'), chachaBytes('put-unixfs', 262_145)].entries()) {
      const ours = await putObject(bytes, { codec: 'unixfs', rpc })
      const theirs = await addBytes(repo, dir, `unixfs-${i}.bin`, bytes)
      assert.equal(ours.cid, theirs)
      assert.ok((await recursivePins()).split('\n').includes(ours.cid))
    }
  })

  test('a dag node linking to a block kubo does not have is still put and pinned (kubo fetches nothing for it)', async () => {
    const { cid: absent } = await putObject(enc.encode('nowhere to be found'), { codec: 'raw' })
    const r = await putObject(enc.encode(JSON.stringify({ missing: { '/': absent } })), { codec: 'dag-cbor', rpc })
    assert.equal(r.pinned, true)
    assert.ok((await recursivePins()).split('\n').includes(r.cid))
    assert.deepEqual(JSON.parse(dec.decode((await getObject(r.cid, { sources })).content)), { missing: { '/': absent } })
    await assert.rejects(getObject(`${r.cid}/missing`, { sources }), ContentNotFoundError)
  })

  test('--no-pin adds without pinning', async () => {
    const ours = await putObject(enc.encode('not pinned, please'), { codec: 'raw', rpc, pin: false })
    assert.equal(ours.pinned, false)
    assert.ok(!(await recursivePins()).split('\n').includes(ours.cid))
    assert.equal(await kubo(['cat', ours.cid]), 'not pinned, please')
  })

  test('a CAR file without a daemon: its root is the CID, its blocks verify, `ipfs dag import` accepts it', async () => {
    const { text } = await contractDoc()
    for (const codec of ['raw', 'dag-cbor', 'dag-json', 'unixfs'] as const) {
      const car = join(dir, `put-${codec}.car`)
      const bytes = codec === 'unixfs' ? chachaBytes('car-unixfs', 300_000) : enc.encode(text)
      const r = await putObject(bytes, { codec, car })
      assert.equal(r.target, 'car')
      assert.equal(r.pinned, false)
      const reader = await CarReader.fromBytes(await readFile(car))
      assert.deepEqual((await reader.getRoots()).map(String), [r.cid])
      let blocks = 0
      for await (const b of reader.blocks()) { verifyBlock(b.cid, b.bytes); blocks++ }
      assert.ok(blocks >= 1)
      const imported = await kubo(['dag', 'import', '--stats', car])
      assert.match(imported, new RegExp(`${r.cid}|Imported ${blocks} blocks`))
      assert.equal(r.cid, (await putObject(bytes, { codec })).cid)
    }
  })

  test('bad input is refused clearly, nothing stored', async () => {
    await assert.rejects(putObject(enc.encode('{"a": '), { codec: 'dag-cbor', rpc }), (e: Error) => e instanceof InvalidArgumentError && /not valid dag-json/.test(e.message))
    await assert.rejects(putObject(enc.encode('{"a": {"/": "not-a-cid"}}'), { codec: 'dag-json' }), InvalidArgumentError)
    await assert.rejects(putObject(new Uint8Array(2 * 1024 * 1024 + 1), { codec: 'raw', maxBytes: 64 << 20 }), (e: Error) => e instanceof ObjectTooLargeError && /2097152/.test(e.message))
    await assert.rejects(putObject(new Uint8Array(11), { codec: 'unixfs', maxBytes: 10 }), ObjectTooLargeError)
    await assert.rejects(putObject(new Uint8Array(1), { codec: 'zip' as 'raw' }), InvalidArgumentError)
  })
})

describe('get reads back, verified', () => {
  test('a dag-cbor CID gives JSON equal to what was put (links {"/": cid}, bytes {"/": {"bytes"}})', async () => {
    const { text, linked } = await contractDoc()
    for (const codec of ['dag-cbor', 'dag-json'] as const) {
      const { cid } = await putObject(enc.encode(text), { codec, rpc })
      const got = await getObject(cid, { sources })
      assert.equal(got.kind, codec)
      assert.equal(got.cid, cid)
      assert.deepEqual(JSON.parse(dec.decode(got.content)), JSON.parse(text))
      const parsed = JSON.parse(dec.decode(got.content)) as { image: unknown, salt: unknown }
      assert.deepEqual(parsed.image, { '/': linked })
      assert.deepEqual(parsed.salt, { '/': { bytes: 'aGVsbG8gd29ybGQ' } })
    }
  })

  test('a path walks fields and lists, and follows links (into a raw block and across into a UnixFS folder)', async () => {
    const folder = join(dir, 'site')
    await mkdir(join(folder, 'sub'), { recursive: true })
    await writeFile(join(folder, 'sub', 'b.txt'), 'inside the folder')
    await writeFile(join(folder, 'a.json'), '{"ok":true}')
    const folderCid = (await kubo(['add', '-r', '-Q', folder]))
    const { text, linked } = await contractDoc()
    const doc = JSON.parse(text) as Record<string, unknown>
    const { cid } = await putObject(enc.encode(JSON.stringify({ ...doc, site: { '/': folderCid } })), { codec: 'dag-cbor', rpc })

    const name = await getObject(`${cid}/name`, { sources })
    assert.equal(JSON.parse(dec.decode(name.content)), 'Citrate asset #7 — ünïcode')
    assert.equal((await getObject(`ipfs://${cid}/tags/2/nested`, { sources })).content.toString(), enc.encode('true').toString())
    const image = await getObject(`/ipfs/${cid}/image`, { sources })
    assert.equal(image.kind, 'raw')
    assert.equal(image.cid, linked)
    assert.equal(dec.decode(image.content), 'linked asset bytes')
    const across = await getObject(`${cid}/site/sub/b.txt`, { sources })
    assert.equal(across.kind, 'file')
    assert.equal(dec.decode(across.content), 'inside the folder')

    await assert.rejects(getObject(`${cid}/nope`, { sources }), (e: Error) => e instanceof PathNotFoundError && e.message === `${cid} has no "nope": the node has no field of that name`)
    await assert.rejects(getObject(`${cid}/tags/9`, { sources }), (e: Error) => e instanceof PathNotFoundError && /tags has no "9": it is a list of 3/.test(e.message))
    await assert.rejects(getObject(`${cid}/site/sub/missing.txt`, { sources }), (e: Error) => e instanceof PathNotFoundError && e.message.startsWith(`${cid}/site/sub has no "missing.txt"`))
    // Field names need not be portable file names (JSON-LD style keys), unlike folder entries.
    const ld = await putObject(enc.encode(JSON.stringify({ 'dc:title': 'Genesis' })), { codec: 'dag-json', rpc })
    assert.equal(dec.decode((await getObject(`${ld.cid}/dc:title`, { sources })).content), '"Genesis"')
  })

  test('a UnixFS file, a path inside a folder, and a folder itself (refused, naming its entries)', async () => {
    const data = chachaBytes('get-file', 700_000) // three chunks of a balanced DAG
    const fileCid = await addBytes(repo, dir, 'get-file.bin', data)
    const got = await getObject(fileCid, { sources })
    assert.equal(got.kind, 'file')
    assert.ok(Buffer.from(got.content).equals(data))

    const folder = join(dir, 'assets')
    await mkdir(join(folder, 'img'), { recursive: true })
    await writeFile(join(folder, 'img', 'logo.svg'), '<svg/>')
    const folderCid = await kubo(['add', '-r', '-Q', '--cid-version=1', folder])
    const inside = await getObject(`${folderCid}/img/logo.svg`, { sources })
    assert.equal(dec.decode(inside.content), '<svg/>')
    assert.equal(inside.path, 'img/logo.svg')
    await assert.rejects(getObject(`${folderCid}/img`, { sources }), (e: Error) => e instanceof InvalidArgumentError && /is a folder/.test(e.message) && /logo\.svg/.test(e.message))
    // A path does not end silently at a file: `<file>/x` names nothing.
    await assert.rejects(getObject(`${folderCid}/img/logo.svg/x`, { sources }), (e: Error) => e instanceof PathNotFoundError && e.message === `${folderCid}/img/logo.svg has no "x": it is a file, not a folder`)
    await assert.rejects(getObject(`${fileCid}/x`, { sources }), (e: Error) => e instanceof PathNotFoundError && /it is a file, not a folder/.test(e.message))
  })

  test('a path through a HAMT-sharded folder (sub-shards) reaches the right file; a missing name is not found', async () => {
    const folder = join(dir, 'many')
    await mkdir(folder)
    for (let i = 0; i < 80; i++) await writeFile(join(folder, `token-${i}.json`), JSON.stringify({ id: i }))
    const cid = await kubo(['add', '-r', '-Q', '--cid-version=1', folder])
    const root = dagPb.decode(await ipfs(repo, ['block', 'get', cid]))
    assert.equal(UnixFS.unmarshal(root.Data ?? new Uint8Array()).type, 'hamt-sharded-directory')
    for (const i of [0, 17, 79]) {
      const got = await getObject(`${cid}/token-${i}.json`, { sources })
      assert.deepEqual(JSON.parse(dec.decode(got.content)), { id: i })
    }
    await assert.rejects(getObject(`${cid}/token-80.json`, { sources }), (e: Error) => e instanceof PathNotFoundError && /has no "token-80\.json"/.test(e.message))
  })

  test('over the cap fails before the content is fetched', async () => {
    const data = chachaBytes('get-cap', 1_000_000)
    const cid = await addBytes(repo, dir, 'get-cap.bin', data)
    await assert.rejects(getObject(cid, { sources, maxBytes: 999_999 }), (e: Error) => e instanceof ObjectTooLargeError && /1000000 bytes, over the limit of 999999/.test(e.message))
    assert.equal((await getObject(cid, { sources, maxBytes: 1_000_000 })).content.byteLength, 1_000_000)
    const { cid: node } = await putObject(enc.encode(JSON.stringify({ blob: 'x'.repeat(5000) })), { codec: 'dag-cbor', rpc })
    await assert.rejects(getObject(node, { sources, maxBytes: 1000 }), ObjectTooLargeError)
  })

  test('a CID nobody has (offline daemon) fails with a clear not-found error, not a hang', async () => {
    const { cid } = await putObject(chachaBytes('never-added', 64), { codec: 'raw' }) // hash only: kubo never saw it
    await assert.rejects(getObject(cid, { sources }), (e: Error) => e instanceof ContentNotFoundError && e.message.includes(cid) && /not found on any source/.test(e.message))
  })

  test('a source that never answers cannot hang a get: it ends at its time limit', async () => {
    const silent = createServer(() => { /* accepts, never answers */ })
    await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`
      const { cid } = await putObject(enc.encode('{"k":1}'), { codec: 'dag-cbor', rpc })
      await assert.rejects(getObject(cid, { sources: [new GatewaySource(url)], timeoutMs: 1500 }), (e: Error) => e instanceof TimeoutError && /timed out after 1\.5 s/.test(e.message))
      const aborted = new AbortController()
      const pending = getObject(cid, { sources: [new GatewaySource(url)], signal: aborted.signal })
      aborted.abort()
      await assert.rejects(pending, AbortedError)
    } finally {
      silent.closeAllConnections()
      await new Promise<void>(resolve => silent.close(() => { resolve() }))
    }
  })

  test('an identity CID needs no source at all', async () => {
    const got = await getObject('bafkqaaa', { sources: [] })
    assert.equal(got.kind, 'raw')
    assert.equal(got.content.byteLength, 0)
    assert.equal(got.fetchedBytes, 0)
  })

  test('references: bad ones are refused naming what is wrong; gateway links users paste work (hello world was put above)', async () => {
    const cid = 'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e'
    await assert.rejects(getObject(`${cid}/../x`, { sources }), (e: Error) => e instanceof InvalidContentPathError && e.code === 'INVALID_CID' && /"\.\." segments are not allowed/.test(e.message))
    await assert.rejects(getObject(`${cid}//x`, { sources }), (e: Error) => e instanceof InvalidContentPathError && /empty path segment/.test(e.message))
    await assert.rejects(getObject('not-a-cid', { sources }), InvalidContentPathError)
    // What users paste works as for a pull: a path gateway link and a subdomain gateway link.
    assert.equal(dec.decode((await getObject(`https://gw.example/ipfs/${cid}`, { sources })).content), 'hello world')
    assert.equal(dec.decode((await getObject(`https://${cid}.ipfs.gw.example/`, { sources })).content), 'hello world')
    await assert.rejects(getObject(cid, { sources, maxBytes: 0 }), InvalidArgumentError)
  })

  test('a gateway serving a wrong block is refused: the bytes come from an honest source, or not at all', async () => {
    const { cid } = await putObject(enc.encode('{"owner":"0xabc"}'), { codec: 'dag-cbor', rpc })
    const liar = await hostileGateway()
    try {
      const bad = new GatewaySource(liar.url, { name: 'liar' })
      const got = await getObject(cid, { sources: [bad, ...sources] })
      assert.deepEqual(JSON.parse(dec.decode(got.content)), { owner: '0xabc' })
      assert.ok(liar.requests > 0, 'the hostile gateway was asked first')
      await assert.rejects(getObject(cid, { sources: [bad] }), (e: Error) => e instanceof AllSourcesFailedError && /liar/.test(e.message) && /block/.test(e.message))
    } finally {
      await liar.close()
    }
  })
})

/** A loopback "gateway" that answers every trustless block request with well-formed but wrong bytes. */
async function hostileGateway (): Promise<{ url: string, requests: number, close: () => Promise<void> }> {
  const state = { requests: 0 }
  const server: Server = createServer((req, res) => {
    state.requests++
    res.writeHead(200, { 'content-type': 'application/vnd.ipld.raw' })
    res.end(Buffer.from([0xa1, 0x65, 0x6f, 0x77, 0x6e, 0x65, 0x72, 0x65, 0x30, 0x78, 0x62, 0x61, 0x64])) // {"owner":"0xbad"} in dag-cbor
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    get requests () { return state.requests },
    close: async () => { await new Promise<void>(resolve => server.close(() => { resolve() })) }
  }
}
