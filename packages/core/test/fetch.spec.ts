/**
 * `pull` against real kubo: every shape `ipfs add` can make, fetched through
 * kubo's own trustless gateway (the running daemon) or from a gateway alone
 * (no daemon of our own), byte-equal to `ipfs cat` / `ipfs get`. Plus the
 * commit rules: registry entry last, nothing left in place on failure.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, open, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MAX_CONCURRENT_PULLS, ModelRegistry, pull, startPull, verifyModel, type PullEvent } from '../src/index.ts'
import { treeOf } from './helpers/content.ts'
import { bookkeepingFile, contentTreeOf } from './helpers/layout.ts'
import { ipfs, makeTestHome, type TestHome } from './helpers/kubo.ts'

/** Deterministic pseudo-random bytes (sha256 counter mode), so failures reproduce. */
function bytesOf (size: number, seed: string): Buffer {
  const out = Buffer.alloc(size)
  for (let i = 0, n = 0; i < size; n++) {
    const block = createHash('sha256').update(`${seed}:${n}`).digest()
    i += block.copy(out, i)
  }
  return out
}

const KiB = 1024
const CHUNK = 256 * KiB

/**
 * The sizes that matter (per shape): empty, one byte, around one chunk, one
 * full node of links ±1 (a second tree level), and three levels with small chunks.
 */
const FILE_CASES: Array<{ label: string, size: number, flags: string[] }> = [
  { label: 'v0 default, 0 B (no Data bytes)', size: 0, flags: [] },
  { label: 'v0 default, 1 B', size: 1, flags: [] },
  { label: 'v0 default, chunk - 1', size: CHUNK - 1, flags: [] },
  { label: 'v0 default, chunk', size: CHUNK, flags: [] },
  { label: 'v0 default, chunk + 1 (two leaves)', size: CHUNK + 1, flags: [] },
  { label: 'v0, 1 KiB chunks, 174 links + 1 (two levels)', size: 174 * KiB + 1, flags: ['--chunker=size-1024'] },
  { label: 'v0, 1 KiB chunks, 174 links exactly', size: 174 * KiB, flags: ['--chunker=size-1024'] },
  { label: 'v0, 1 KiB chunks, 16 links per node, three levels', size: 16 * 16 * KiB + 300, flags: ['--chunker=size-1024', '--max-file-links=16'] },
  { label: 'v0 raw leaves', size: CHUNK * 2 + 5, flags: ['--raw-leaves'] },
  { label: 'v1 (raw leaves), 0 B', size: 0, flags: ['--cid-version=1'] },
  { label: 'v1 (raw leaves), 1 B (a raw root)', size: 1, flags: ['--cid-version=1'] },
  { label: 'v1, chunk + 1', size: CHUNK + 1, flags: ['--cid-version=1'] },
  { label: 'v1 without raw leaves', size: CHUNK + 1, flags: ['--cid-version=1', '--raw-leaves=false'] },
  { label: 'unixfs-v1-2025 shape (1 MiB chunks, 1024 links)', size: 3 * 1024 * KiB + 7, flags: ['--cid-version=1', '--chunker=size-1048576', '--max-file-links=1024'] },
  { label: 'largest chunks kubo allows (2096896 B)', size: 2096896 * 2 + 1, flags: ['--cid-version=1', '--chunker=size-2096896'] },
  { label: 'trickle, 1 KiB chunks', size: 300 * KiB + 3, flags: ['--trickle', '--chunker=size-1024'] },
  { label: 'trickle v1', size: 200 * KiB + 3, flags: ['--trickle', '--cid-version=1', '--chunker=size-512'] },
  { label: 'rabin chunker', size: 500 * KiB, flags: ['--chunker=rabin-2048-4096-8192'] },
  { label: 'buzhash chunker', size: 700 * KiB, flags: ['--chunker=buzhash'] },
  { label: 'inline (identity root)', size: 10, flags: ['--inline'] },
  { label: 'inline leaves in a tree', size: 64 * 20, flags: ['--inline', '--inline-limit=100', '--chunker=size-64', '--cid-version=1'] },
  { label: 'sha2-512', size: CHUNK + 9, flags: ['--hash=sha2-512'] },
  { label: 'sha3-256', size: 5000, flags: ['--hash=sha3-256', '--chunker=size-1024'] },
  { label: 'keccak-256', size: 3000, flags: ['--hash=keccak-256', '--chunker=size-1024'] },
  { label: 'blake2b-256', size: 70 * KiB, flags: ['--hash=blake2b-256', '--chunker=size-8192'] },
  { label: 'blake2s-256', size: 3000, flags: ['--hash=blake2s-256', '--chunker=size-1024'] },
  { label: 'blake3', size: 70 * KiB, flags: ['--hash=blake3', '--chunker=size-8192'] },
  { label: 'sha1', size: 1500, flags: ['--hash=sha1', '--chunker=size-1024'] },
  { label: 'dbl-sha2-256', size: 1500, flags: ['--hash=dbl-sha2-256', '--chunker=size-1024'] }
]

let h: TestHome
let gatewayUrl: string
let scratch: string
before(async () => {
  h = await makeTestHome('auto_pin = false')
  gatewayUrl = (await h.manager.start()).status.gatewayUrl
  scratch = await mkdtemp(join(tmpdir(), 'citrate-fetch-'))
})
after(async () => {
  await h?.cleanup()
  if (scratch != null) await rm(scratch, { recursive: true, force: true })
})

async function add (data: Uint8Array, flags: string[]): Promise<string> {
  return (await ipfs(h.config.paths.ipfsRepo, ['add', '-Q', '--pin=false', ...flags], data)).toString().trim()
}

describe('pull: file shapes from the daemon, byte-equal to `ipfs cat`', () => {
  FILE_CASES.forEach((c, i) => {
    test(`${c.label} (${c.size} B)`, async () => {
      const data = bytesOf(c.size, c.label)
      const cid = await add(data, c.flags)
      const res = await pull({ cid, config: h.config, name: `file-${i}`, publicGateways: [] })
      const got = await readFile(res.path)
      assert.equal(got.length, c.size)
      assert.ok(got.equals(await ipfs(h.config.paths.ipfsRepo, ['cat', cid])), 'bytes differ from ipfs cat')
      assert.ok(got.equals(data))
      assert.equal(res.totalBytes, c.size)
      assert.equal(res.type, 'file')
      const entry = await new ModelRegistry({ modelsDir: h.config.paths.models }).get(`file-${i}`)
      assert.equal(entry?.cid, cid)
      assert.equal(entry?.verified, true)
      assert.equal(entry?.size_bytes, c.size)
      // The DAG index written with it lets `models verify` re-prove the bytes without a daemon, whatever the hash function.
      if (entry != null) assert.equal((await verifyModel(entry, { modelsDir: h.config.paths.models })).method, 'dag-index')
    })
  })
})

describe('pull: directories, byte-equal to `ipfs get`', () => {
  async function makeTree (root: string, shape: 'nested' | 'wide'): Promise<void> {
    await mkdir(root, { recursive: true })
    if (shape === 'wide') {
      for (let i = 0; i < 60; i++) await writeFile(join(root, `entry-${i}.bin`), bytesOf(i * 37, `wide${i}`))
      return
    }
    await mkdir(join(root, 'a', 'b', 'c'), { recursive: true })
    await mkdir(join(root, 'empty'), { recursive: true })
    await writeFile(join(root, 'zero.bin'), '')
    await writeFile(join(root, 'one.txt'), 'x')
    await writeFile(join(root, 'a', 'chunk-plus-one.bin'), bytesOf(CHUNK + 1, 'dir1'))
    await writeFile(join(root, 'a', 'b', 'small.txt'), 'hello world')
    await writeFile(join(root, 'a', 'b', 'c', 'deep.bin'), bytesOf(3 * CHUNK + 11, 'dir2'))
    await writeFile(join(root, 'name with spaces & ünïcode.txt'), 'names survive')
  }

  const DIR_CASES: Array<{ label: string, shape: 'nested' | 'wide', flags: string[] }> = [
    { label: 'nested dirs, v0 default (empty dir, 0 B and 1 B files)', shape: 'nested', flags: [] },
    { label: 'nested dirs, v1 raw leaves', shape: 'nested', flags: ['--cid-version=1'] },
    { label: 'nested dirs, trickle + blake3', shape: 'nested', flags: ['--trickle', '--hash=blake3'] },
    { label: 'HAMT-sharded dir (fanout 8, several levels)', shape: 'wide', flags: ['--max-directory-links=8', '--max-hamt-fanout=8'] },
    { label: 'HAMT-sharded dir, v1, inlined small entries', shape: 'wide', flags: ['--max-directory-links=8', '--max-hamt-fanout=16', '--cid-version=1', '--inline'] }
  ]

  DIR_CASES.forEach((c, i) => {
    test(c.label, async () => {
      const src = join(scratch, `src-${i}`)
      await makeTree(src, c.shape)
      const cid = (await ipfs(h.config.paths.ipfsRepo, ['add', '-r', '-Q', '--pin=false', ...c.flags, src])).toString().trim()
      const res = await pull({ cid, config: h.config, name: `dir-${i}`, kind: i % 2 === 0 ? 'model' : 'dataset', publicGateways: [] })
      assert.equal(res.type, 'directory')
      const expected = join(scratch, `get-${i}`)
      await ipfs(h.config.paths.ipfsRepo, ['get', '-o', expected, cid])
      // The folder's own files land directly in the model folder, with our bookkeeping in .citrate/ beside them.
      assert.equal(res.path, res.dir)
      assert.deepEqual(await contentTreeOf(res.path), await treeOf(expected))
      if (i % 2 === 1) assert.ok(res.dir.startsWith(h.config.paths.datasets), `a dataset lands under training/datasets (got ${res.dir})`)
      assert.ok((await stat(bookkeepingFile(res.dir, 'metadata.json'))).isFile())
      assert.ok((await stat(bookkeepingFile(res.dir, 'config.json'))).isFile())
      assert.equal((await verifyModel(res.entry, { modelsDir: i % 2 === 0 ? h.config.paths.models : h.config.paths.datasets })).method, 'dag-index')
    })
  })
})

describe('pull: sources, limits and commit order', () => {
  test('gateway only: a home with no daemon pulls from external_gateway', async () => {
    const g = await makeTestHome(`daemon_enabled = false\nexternal_gateway = ${JSON.stringify(gatewayUrl)}`)
    try {
      const data = bytesOf(CHUNK * 3, 'gw-only')
      const cid = await add(data, [])
      const events: PullEvent[] = []
      const res = await pull({ cid, config: g.config, publicGateways: [], filename: 'weights-Q4_K_M.gguf', onProgress: e => events.push(e) })
      assert.ok((await readFile(res.path)).equals(data))
      assert.equal(res.entry.id, 'weights-Q4_K_M.gguf')
      assert.equal(res.entry.source, 'gateway')
      assert.equal(res.entry.source_url, gatewayUrl)
      assert.equal(res.entry.quantization, 'Q4_K_M')
      const statuses = events.filter(e => e.type === 'citrate:pull:progress').map(e => JSON.stringify(e.progress.status))
      for (const s of ['"Queued"', '"Connecting"', '"Downloading"', '"Verifying"', '"Complete"']) assert.ok(statuses.includes(s), `status ${s} reported (got ${[...new Set(statuses)].join(', ')})`)
      const last = events.filter(e => e.type === 'citrate:pull:progress').at(-1)
      assert.equal(last?.type === 'citrate:pull:progress' && last.progress.downloaded_bytes, data.length)
      assert.equal(last?.type === 'citrate:pull:progress' && last.progress.progress_percent, 100)
    } finally {
      await g.cleanup()
    }
  })

  test('no kubo installed at all: pull works from gateways alone', async () => {
    const g = await makeTestHome(`external_gateway = ${JSON.stringify(gatewayUrl)}`, { daemonPath: '/nonexistent/ipfs' })
    try {
      const data = bytesOf(5 * 1024 * 1024 + 1, 'no-kubo')
      const cid = await add(data, [])
      const res = await pull({ cid, config: g.config, publicGateways: [] })
      assert.ok((await readFile(res.path)).equals(data))
      assert.equal(res.pinned, false)
    } finally {
      await g.cleanup()
    }
  })

  test('fsync: by default every file pulled is flushed before its commit; [ipfs] fsync = false and the fsync option skip that', async () => {
    const dir = join(scratch, 'fsync-dir')
    await mkdir(dir, { recursive: true })
    const big = bytesOf(5 * 1024 * 1024 + 7, 'fsync-big')
    await writeFile(join(dir, 'model.gguf'), big)
    await writeFile(join(dir, 'config.json'), '{"fsync":true}')
    const cid = (await ipfs(h.config.paths.ipfsRepo, ['add', '-Q', '-r', '--pin=false', dir])).toString().trim()
    // Count fdatasync calls on the pull's files (FileHandle.datasync is the only way the walker flushes).
    const probe = await open(join(dir, 'config.json'), 'r')
    const proto = Object.getPrototypeOf(probe) as { datasync: (this: { fd: number }) => Promise<void> }
    await probe.close()
    const original = proto.datasync
    let synced: string[] = []
    proto.datasync = async function (this: { fd: number }) {
      synced.push(await readlink(`/proc/self/fd/${this.fd}`).catch(() => '?'))
      return original.call(this)
    }
    const off = await makeTestHome(`daemon_enabled = false\nexternal_gateway = ${JSON.stringify(gatewayUrl)}\nfsync = false`)
    try {
      const runs: Array<[string, () => Promise<{ path: string }>, number]> = [
        ['default', () => pull({ cid, config: h.config, name: 'fsync-default', publicGateways: [] }), 2],
        ['[ipfs] fsync = false', () => pull({ cid, config: off.config, name: 'fsync-config', publicGateways: [] }), 0],
        ['fsync: false', () => pull({ cid, config: h.config, name: 'fsync-option', publicGateways: [], fsync: false }), 0]
      ]
      for (const [label, run, expected] of runs) {
        synced = []
        const res = await run()
        assert.ok((await readFile(join(res.path, 'model.gguf'))).equals(big), label)
        assert.equal(synced.length, expected, `${label}: ${expected} files flushed (flushed: ${synced.join(', ') || 'none'})`)
        for (const p of synced) assert.ok(p.includes(join('tmp', 'pulls')), `${label}: flushed ${p} while it was still aside`)
      }
    } finally {
      proto.datasync = original
      await off.cleanup()
    }
  })

  test('a second pull of the same CID and id is already present; two at once share one download', async () => {
    const data = bytesOf(CHUNK * 2 + 3, 'shared')
    const cid = await add(data, [])
    const a = startPull({ cid, config: h.config, name: 'shared', publicGateways: [] })
    const b = startPull({ cid, config: h.config, name: 'shared', publicGateways: [] })
    assert.equal(a.result, b.result)
    const res = await a.result
    assert.equal(res.alreadyPresent, false)
    const again = await pull({ cid, config: h.config, name: 'shared', publicGateways: [] })
    assert.equal(again.alreadyPresent, true)
    assert.equal(again.path, res.path)
  })

  test('an id taken by another CID is refused before fetching', async () => {
    const cid = await add(bytesOf(10, 'taken'), [])
    await assert.rejects(pull({ cid, config: h.config, name: 'shared', publicGateways: [] }), { code: 'TARGET_EXISTS' })
  })

  test('invalid CID, unsupported codec, unsafe id and filename: clear errors', async () => {
    await assert.rejects(pull({ cid: 'not-a-cid', config: h.config, publicGateways: [] }), { code: 'INVALID_CID' })
    const cbor = (await ipfs(h.config.paths.ipfsRepo, ['dag', 'put'], Buffer.from('{"a":1}'))).toString().trim()
    await assert.rejects(pull({ cid: cbor, config: h.config, publicGateways: [] }), (err: Error & { code?: string }) => err.code === 'UNSUPPORTED' && /codec 0x71/.test(err.message))
    const cid = await add(bytesOf(10, 'names'), [])
    await assert.rejects(pull({ cid, config: h.config, name: '../evil', publicGateways: [] }), { code: 'INVALID_MODEL_ID' })
    await assert.rejects(pull({ cid, config: h.config, name: 'ok', filename: '../evil', publicGateways: [] }), { code: 'UNSAFE_NAME' })
  })

  test('max_model_size_gb: refused from the declared size, nothing in place, no entry', async () => {
    const small = await makeTestHome(`max_model_size_gb = 0.0001\nexternal_gateway = ${JSON.stringify(gatewayUrl)}\ndaemon_enabled = false`)
    try {
      const cid = await add(bytesOf(200 * KiB, 'too-big'), ['--chunker=size-1024'])
      const fetched: string[] = []
      await assert.rejects(pull({ cid, config: small.config, name: 'big', publicGateways: [], onProgress: e => { if (e.type === 'citrate:pull:progress') fetched.push(String(e.progress.downloaded_bytes)) } }), { code: 'SIZE_LIMIT_EXCEEDED' })
      assert.equal(fetched.filter(b => b !== '0').length, 0, 'no file bytes fetched')
      await assert.rejects(stat(join(small.config.paths.models, 'big')))
      assert.equal(await new ModelRegistry({ modelsDir: small.config.paths.models }).get('big'), undefined)
    } finally {
      await small.cleanup()
    }
  })

  test('no reachable source: ALL_SOURCES_FAILED with each reason, nothing in place', async () => {
    const cid = await add(bytesOf(100, 'unreachable'), [])
    await assert.rejects(pull({ cid, config: h.config, name: 'unreachable', sources: ['http://127.0.0.1:1'], publicGateways: [] }),
      (err: Error & { code?: string }) => err.code === 'ALL_SOURCES_FAILED' && err.message.includes('127.0.0.1:1'))
    await assert.rejects(stat(join(h.config.paths.models, 'unreachable')))
  })

  test('pause holds the download, resume finishes it; cancel leaves nothing behind', async () => {
    const data = bytesOf(400 * KiB, 'pause')
    const cid = await add(data, ['--chunker=size-1024'])
    const handle = startPull({ cid, config: h.config, name: 'paused', publicGateways: [], concurrency: 1, progressIntervalMs: 20 })
    handle.pause()
    await new Promise(resolve => setTimeout(resolve, 300))
    assert.ok(handle.progress.downloaded_bytes < data.length, 'paused before the end')
    const atPause = handle.progress.downloaded_bytes
    await new Promise(resolve => setTimeout(resolve, 200))
    assert.equal(handle.progress.downloaded_bytes, atPause)
    assert.equal(handle.progress.status, 'Paused')
    handle.resume()
    assert.ok((await readFile((await handle.result).path)).equals(data))

    const cid2 = await add(bytesOf(400 * KiB, 'cancel'), ['--chunker=size-1024'])
    const c = startPull({ cid: cid2, config: h.config, name: 'cancelled', publicGateways: [], concurrency: 1 })
    setTimeout(() => c.cancel(), 50)
    await assert.rejects(c.result, { code: 'ABORTED' })
    await assert.rejects(stat(join(h.config.paths.models, 'cancelled')))
    await assert.rejects(stat(join(h.home, 'tmp', 'pulls', 'v1', cid2)))
    assert.equal(await new ModelRegistry({ modelsDir: h.config.paths.models }).get('cancelled'), undefined)
  })

  test('at most MAX_CONCURRENT_PULLS download at once; the next waits as Queued', async () => {
    const handles = []
    for (let i = 0; i < MAX_CONCURRENT_PULLS + 1; i++) {
      const cid = await add(bytesOf(64 * KiB, `cap-${i}`), ['--chunker=size-1024'])
      const handle = startPull({ cid, config: h.config, name: `cap-${i}`, publicGateways: [], progressIntervalMs: 20 })
      handle.pause()
      handles.push(handle)
    }
    await new Promise(resolve => setTimeout(resolve, 400))
    const statuses = handles.map(x => x.progress.status)
    assert.equal(statuses.filter(st => st === 'Queued').length, 1, JSON.stringify(statuses))
    for (const x of handles) x.resume()
    for (const x of handles) assert.equal((await x.result).entry.verified, true)
  })

  test('auto_pin: blocks from a gateway are handed to our kubo (dag/import) and pinned, nothing fetched again', async () => {
    const p = await makeTestHome(`use_external_by_default = true\nexternal_gateway = ${JSON.stringify(gatewayUrl)}`)
    try {
      await p.manager.start()
      const file = bytesOf(CHUNK * 2 + 77, 'handover-file')
      const fileCid = await add(file, [])
      const res = await pull({ cid: fileCid, config: p.config, publicGateways: [] })
      assert.equal(res.pinned, true, JSON.stringify(res.failures))
      assert.deepEqual(res.sources, [gatewayUrl])
      // Our (offline) kubo now holds every block: cat works without any network.
      assert.ok((await ipfs(p.config.paths.ipfsRepo, ['cat', '--offline', fileCid])).equals(file))
      assert.ok((await ipfs(p.config.paths.ipfsRepo, ['pin', 'ls', '--type=recursive', '-q'])).toString().includes(fileCid))

      const src = join(scratch, 'handover-dir')
      await mkdir(join(src, 'sub'), { recursive: true })
      await writeFile(join(src, 'sub', 'a.bin'), bytesOf(CHUNK + 5, 'handover-a'))
      await writeFile(join(src, 'b.txt'), 'b')
      const dirCid = (await ipfs(h.config.paths.ipfsRepo, ['add', '-r', '-Q', '--pin=false', '--cid-version=1', src])).toString().trim()
      const dres = await pull({ cid: dirCid, config: p.config, publicGateways: [] })
      assert.equal(dres.pinned, true)
      assert.ok((await ipfs(p.config.paths.ipfsRepo, ['cat', '--offline', `${dirCid}/sub/a.bin`])).equals(bytesOf(CHUNK + 5, 'handover-a')))
    } finally {
      await p.cleanup()
    }
  })

  test('auto_pin: blocks served by the daemon are pinned there', async () => {
    const p = await makeTestHome()
    try {
      await p.manager.start()
      const cid = (await ipfs(p.config.paths.ipfsRepo, ['add', '-Q', '--pin=false'], bytesOf(CHUNK + 1, 'pin'))).toString().trim()
      const res = await pull({ cid, config: p.config, publicGateways: [] })
      assert.equal(res.pinned, true)
      const pins = (await ipfs(p.config.paths.ipfsRepo, ['pin', 'ls', '--type=recursive', '-q'])).toString()
      assert.ok(pins.includes(cid))
    } finally {
      await p.cleanup()
    }
  })
})
