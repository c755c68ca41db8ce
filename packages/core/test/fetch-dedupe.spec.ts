/**
 * Nothing is fetched twice, against real kubo behind a counting proxy:
 * within one pull (a HAMT folder of 1000 entries that all name one file, a
 * file whose chunks repeat) each distinct block is requested once; across
 * ids, a CID already held (or being downloaded) under another id is cloned
 * from its verified bytes and re-proved, never downloaded again, unless
 * those bytes no longer prove.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createServer, request, type Server } from 'node:http'
import { mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { ModelRegistry, pull, startPull, verifyModel } from '../src/index.ts'
import { treeOf } from './helpers/content.ts'
import { contentTreeOf } from './helpers/layout.ts'
import { ipfs, makeTestHome, type TestHome } from './helpers/kubo.ts'

const KiB = 1024

function bytesOf (size: number, seed: string): Buffer {
  const out = Buffer.alloc(size)
  for (let i = 0, n = 0; i < size; n++) i += createHash('sha256').update(`${seed}:${n}`).digest().copy(out, i)
  return out
}

/** Forwards to kubo's gateway and counts requests and response body bytes. */
class CountingProxy {
  requests = 0
  bytes = 0
  readonly server: Server
  url = ''
  constructor (upstream: string) {
    const target = new URL(upstream)
    this.server = createServer((req, res) => {
      this.requests++
      const up = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host } }, upRes => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers)
        upRes.on('data', (chunk: Buffer) => { this.bytes += chunk.length })
        upRes.pipe(res)
      })
      up.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end() })
      res.on('close', () => up.destroy())
      req.pipe(up)
    })
  }

  async listen (): Promise<void> {
    await new Promise<void>(resolve => this.server.listen(0, '127.0.0.1', resolve))
    const a = this.server.address()
    this.url = `http://127.0.0.1:${typeof a === 'object' && a != null ? a.port : 0}`
  }

  snapshot (): { requests: number, bytes: number } { return { requests: this.requests, bytes: this.bytes } }

  async close (): Promise<void> {
    this.server.closeAllConnections()
    await new Promise(resolve => this.server.close(resolve))
  }
}

let h: TestHome
let proxy: CountingProxy
let scratch: string
let repo: string
before(async () => {
  h = await makeTestHome('auto_pin = false')
  await h.manager.start()
  repo = h.config.paths.ipfsRepo
  // Folders of more than 1 KiB of links become HAMT shards (kubo's default is 256 KiB), as in the gateway-conformance fixture.
  await ipfs(repo, ['config', '--json', 'Import.UnixFSHAMTDirectorySizeThreshold', '"1KiB"'])
  await h.manager.stop()
  const gatewayUrl = (await h.manager.start()).status.gatewayUrl
  proxy = new CountingProxy(gatewayUrl)
  await proxy.listen()
  scratch = await mkdtemp(join(tmpdir(), 'citrate-dedupe-'))
})
after(async () => {
  await proxy?.close()
  await h?.cleanup()
  if (scratch != null) await rm(scratch, { recursive: true, force: true })
})

async function add (data: Uint8Array, flags: string[]): Promise<string> {
  return (await ipfs(repo, ['add', '-Q', '--pin=false', ...flags], data)).toString().trim()
}

/** Distinct blocks of the DAG under `cid`, the root included. */
async function uniqueBlocks (cid: string): Promise<number> {
  const refs = (await ipfs(repo, ['refs', '-r', '-u', cid])).toString().split('\n').filter(l => l.trim() !== '')
  return refs.length + 1
}

describe('within one pull, each distinct block is fetched once', () => {
  test('a HAMT folder of 1000 entries naming one 6-block file: about one request per distinct block, byte-equal to `ipfs get`', async (t) => {
    const dir = join(scratch, 'hamt-src')
    await mkdir(dir)
    // 5 KiB - 1 in 1 KiB chunks: five leaves under one root, six blocks.
    const file = bytesOf(5 * KiB - 1, 'hamt-file')
    for (let i = 0; i < 1000; i++) await writeFile(join(dir, `f${String(i).padStart(4, '0')}.bin`), file)
    const cid = (await ipfs(repo, ['add', '-r', '-Q', '--pin=false', '--chunker=size-1024', dir])).toString().trim()
    const unique = await uniqueBlocks(cid)
    const root = JSON.parse((await ipfs(repo, ['dag', 'get', cid])).toString()) as { Data?: unknown, Links: unknown[] }
    assert.ok(root.Links.length < 1000, `the folder is sharded (its root has ${root.Links.length} links)`)
    assert.ok(unique > 100 && unique < 400, `${unique} distinct blocks`)

    const getStart = Date.now()
    const viaGet = join(scratch, 'hamt-get')
    await ipfs(repo, ['get', '-o', viaGet, cid])
    const getMs = Date.now() - getStart

    const before = proxy.snapshot()
    const started = Date.now()
    const res = await pull({ cid, config: h.config, name: 'hamt', sources: [proxy.url], publicGateways: [], reuseLocal: true })
    const pullMs = Date.now() - started
    const requests = proxy.requests - before.requests
    t.diagnostic(`${requests} requests for ${unique} distinct blocks; pull ${pullMs} ms, ipfs get ${getMs} ms`)
    // Before: 5245 requests (every entry fetched its five leaves again).
    assert.ok(requests <= unique + 8, `${requests} requests for ${unique} distinct blocks`)
    assert.equal(res.type, 'directory')
    assert.deepEqual(await contentTreeOf(res.path), await treeOf(viaGet))
    assert.equal((await verifyModel(res.entry, { modelsDir: h.config.paths.models })).method, 'dag-index')
  })

  const repeated = (): Buffer => {
    // 32 chunks of 256 KiB: every fourth is distinct, the rest are zeros (as in the padding of model files): 9 distinct leaves.
    const chunks: Buffer[] = []
    for (let i = 0; i < 32; i++) chunks.push(i % 4 === 0 ? bytesOf(256 * KiB, `rep:${i}`) : Buffer.alloc(256 * KiB))
    return Buffer.concat(chunks)
  }
  const UNIQUE_LEAF_BYTES = 9 * 256 * KiB

  test('a file whose chunks repeat, read as byte ranges: each distinct leaf once (bytes fetched ≈ distinct bytes)', async () => {
    const data = repeated()
    const cid = await add(data, ['--cid-version=1'])
    const before = proxy.snapshot()
    // 1 MiB ranges: the zero leaf recurs within one range and across ranges read at once.
    const res = await pull({ cid, config: h.config, name: 'repeated-ranges', sources: [proxy.url], publicGateways: [], rangeBytes: 1024 * KiB })
    const fetched = proxy.bytes - before.bytes
    assert.ok(fetched <= UNIQUE_LEAF_BYTES + 16 * KiB, `${fetched} bytes fetched for ${UNIQUE_LEAF_BYTES} distinct leaf bytes (file ${data.length})`)
    assert.ok(res.fetchedBytes <= UNIQUE_LEAF_BYTES + 16 * KiB, `fetchedBytes ${res.fetchedBytes}`)
    assert.ok((await readFile(res.path)).equals(data))
    assert.equal((await verifyModel(res.entry, { modelsDir: h.config.paths.models })).method, 'dag-index')
  })

  test('the same file block by block (dag-pb leaves): one request per distinct block', async () => {
    const data = repeated()
    const cid = await add(data, [])
    const unique = await uniqueBlocks(cid)
    assert.equal(unique, 10)
    const before = proxy.snapshot()
    const res = await pull({ cid, config: h.config, name: 'repeated-blocks', sources: [proxy.url], publicGateways: [], rangeBytes: 0 })
    const requests = proxy.requests - before.requests
    assert.ok(requests <= unique + 2, `${requests} requests for ${unique} distinct blocks`)
    assert.ok((await readFile(res.path)).equals(data))
  })
})

describe('across ids, a CID already held is never downloaded again', () => {
  test('two ids one after the other (v0, then its v1 spelling): one download; the second is cloned, re-proved and registered', async () => {
    const data = bytesOf(600 * KiB + 3, 'two-ids')
    const cid = await add(data, [])
    const first = await pull({ cid, config: h.config, name: 'first', sources: [proxy.url], publicGateways: [], reuseLocal: true })
    assert.ok(first.fetchedBytes >= data.length)
    const before = proxy.snapshot()
    const v1 = CID.parse(cid).toV1().toString()
    const second = await pull({ cid: v1, config: h.config, name: 'second', sources: [proxy.url], publicGateways: [], reuseLocal: true })
    assert.deepEqual(proxy.snapshot(), before, 'the second pull fetched nothing')
    assert.equal(second.fetchedBytes, 0)
    assert.equal(second.alreadyPresent, false)
    assert.equal(second.reusedFrom, 'first')
    assert.ok((await readFile(second.path)).equals(data))
    const registry = new ModelRegistry({ modelsDir: h.config.paths.models })
    const a = await registry.get('first')
    const b = await registry.get('second')
    assert.equal(a?.verified, true)
    assert.equal(b?.verified, true)
    assert.equal(b?.source, 'local')
    assert.equal(b?.cid, v1)
    // Its own DAG index came along: it verifies on its own.
    assert.equal((await verifyModel(b as NonNullable<typeof b>, { modelsDir: h.config.paths.models })).method, 'dag-index')
  })

  test('three ids of one CID pulled at the same time: one download', async () => {
    const data = bytesOf(1024 * KiB + 11, 'three-at-once')
    const cid = await add(data, [])
    const before = proxy.snapshot()
    const handles = ['at-once-1', 'at-once-2', 'at-once-3'].map(name => startPull({ cid, config: h.config, name, sources: [proxy.url], publicGateways: [], reuseLocal: true }))
    const results = await Promise.all(handles.map(async hd => await hd.result))
    const fetched = proxy.bytes - before.bytes
    assert.ok(fetched < data.length * 1.5, `${fetched} bytes fetched for three ids of ${data.length} bytes`)
    assert.equal(results.filter(r => r.reusedFrom != null).length, 2)
    for (const r of results) assert.ok((await readFile(r.path)).equals(data))
    const registry = new ModelRegistry({ modelsDir: h.config.paths.models })
    for (const id of ['at-once-1', 'at-once-2', 'at-once-3']) assert.equal((await registry.get(id))?.verified, true, id)
  })

  test('a corrupted copy is not propagated: the new id is fetched and correct, the bad one marked unverified', async () => {
    const data = bytesOf(300 * KiB + 1, 'rotted')
    const cid = await add(data, [])
    const good = await pull({ cid, config: h.config, name: 'rotted', sources: [proxy.url], publicGateways: [], reuseLocal: true })
    const fh = await open(good.path, 'r+')
    try {
      const b = Buffer.alloc(1)
      await fh.read(b, 0, 1, 1000)
      b[0] = (b[0] as number) ^ 0xff
      await fh.write(b, 0, 1, 1000)
    } finally {
      await fh.close()
    }
    const before = proxy.snapshot()
    const fresh = await pull({ cid, config: h.config, name: 'fresh', sources: [proxy.url], publicGateways: [], reuseLocal: true })
    assert.ok(proxy.bytes - before.bytes >= data.length, 'the new id was fetched')
    assert.equal(fresh.reusedFrom, undefined)
    assert.ok((await readFile(fresh.path)).equals(data))
    const registry = new ModelRegistry({ modelsDir: h.config.paths.models })
    assert.equal((await registry.get('rotted'))?.verified, false)
    assert.equal((await registry.get('fresh'))?.verified, true)
    // Nothing of the failed clone is left beside the models.
    assert.deepEqual((await readdir(h.config.paths.models)).filter(n => n.includes('.reuse-')), [])
  })
})
