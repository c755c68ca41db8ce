import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hashPath, writeCar, addToKubo, kuboAddFlags, resolveImportShape, InvalidArgumentError, type ImportShapeOptions, type PublishProgressEvent } from '../src/index.ts'
import { initRepo } from '../src/daemon/repo.ts'
import { ipfs, makeTestHome, testKuboBinary, type TestHome } from './helpers/kubo.ts'
import { chachaBytes, writeChachaFile, LAYOUT_SIZES } from './helpers/content.ts'

describe('kubo published CID vectors (no kubo needed)', () => {
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'citrate-vectors-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  const vectors: Array<{ name: string, content: () => Buffer, opts: ImportShapeOptions, cid: string }> = [
    { name: 'hello world, default', content: () => Buffer.from('hello world'), opts: {}, cid: 'Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD' },
    { name: 'hello world, --cid-version 1', content: () => Buffer.from('hello world'), opts: { cidVersion: 1 }, cid: 'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e' },
    { name: 'empty file, default', content: () => Buffer.alloc(0), opts: {}, cid: 'QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH' },
    { name: '262145 B chunk-v0-seed, default', content: () => chachaBytes('chunk-v0-seed', 262_145), opts: {}, cid: 'QmYyLxtzZyW22zpoVAtKANLRHpDjZtNeDjQdJrcQNWoRkJ' },
    { name: '174×262144+1 B v0-seed, default', content: () => chachaBytes('v0-seed', 174 * 262_144 + 1), opts: {}, cid: 'QmV81WL765sC8DXsRhE5fJv2rwhS4icHRaf3J9Zk5FdRnW' },
    { name: '1048577 B chunk-v1-seed, unixfs-v1-2025', content: () => chachaBytes('chunk-v1-seed', 1_048_577), opts: { profile: 'unixfs-v1-2025' }, cid: 'bafybeigmix7t42i6jacydtquhet7srwvgpizfg7gjbq7627d35mjomtu64' }
  ]
  for (const v of vectors) {
    test(v.name, async () => {
      const file = join(dir, v.name.replace(/[^a-z0-9]+/gi, '_'))
      await writeFile(file, v.content())
      assert.equal((await hashPath(file, v.opts)).cid, v.cid)
    })
  }
})

describe('streaming', () => {
  test('hashing a 768 MiB file holds a bounded amount of memory (1024-link profile included)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'citrate-stream-'))
    try {
      const file = join(dir, 'sparse.bin')
      await writeFile(file, '')
      await truncate(file, 768 * 1024 * 1024) // sparse: reads as zeros without using disk
      for (const opts of [{}, { profile: 'unixfs-v1-2025' as const }]) {
        let peak = 0
        const sample = setInterval(() => { peak = Math.max(peak, process.memoryUsage().arrayBuffers) }, 5)
        const base = process.memoryUsage().arrayBuffers
        const res = await hashPath(file, opts)
        clearInterval(sample)
        assert.equal(res.size, 768 * 1024 * 1024)
        assert.ok(peak - base < 160 * 1024 * 1024, `buffers peaked ${Math.round((peak - base) / 2 ** 20)} MiB above the start`)
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('option resolution mirrors kubo', () => {
  test('profiles, cid version, raw leaves and chunker', () => {
    assert.deepEqual(resolveImportShape({}), { cidVersion: 0, rawLeaves: false, chunkSize: 262144, maxLinks: 174, shardSplitStrategy: 'links-bytes' })
    assert.deepEqual(resolveImportShape({ cidVersion: 1 }), { cidVersion: 1, rawLeaves: true, chunkSize: 262144, maxLinks: 174, shardSplitStrategy: 'links-bytes' })
    assert.equal(resolveImportShape({ cidVersion: 1, rawLeaves: false }).rawLeaves, false)
    assert.deepEqual(resolveImportShape({ profile: 'unixfs-v1-2025' }), { cidVersion: 1, rawLeaves: true, chunkSize: 1048576, maxLinks: 1024, shardSplitStrategy: 'block-bytes' })
    assert.equal(resolveImportShape({ profile: 'unixfs-v1-2025', chunker: 'size-1000' }).chunkSize, 1000)
    assert.deepEqual(kuboAddFlags(resolveImportShape({ profile: 'unixfs-v1-2025' })), ['--cid-version=1', '--raw-leaves=true', '--chunker=size-1048576', '--max-file-links=1024'])
    for (const bad of ['rabin', 'size-0', 'size-abc', 'size-99999999']) assert.throws(() => resolveImportShape({ chunker: bad }), InvalidArgumentError)
    assert.throws(() => resolveImportShape({ profile: 'nope' as 'unixfs-v0-2015' }), InvalidArgumentError)
  })
})

describe('CID parity with real `ipfs add`', () => {
  let t: TestHome
  let dir: string
  const options: Array<{ label: string, opts: ImportShapeOptions }> = [
    { label: 'default', opts: {} },
    { label: '--cid-version 1', opts: { cidVersion: 1 } },
    { label: 'profile unixfs-v0-2015', opts: { profile: 'unixfs-v0-2015' } },
    { label: 'profile unixfs-v1-2025', opts: { profile: 'unixfs-v1-2025' } },
    { label: '--chunker size-65536', opts: { chunker: 'size-65536' } },
    { label: '--raw-leaves (CIDv0)', opts: { rawLeaves: true } },
    { label: '--cid-version 1 --raw-leaves=false', opts: { cidVersion: 1, rawLeaves: false } }
  ]
  before(async () => {
    t = await makeTestHome()
    await initRepo(testKuboBinary(), t.config.paths.ipfsRepo, ['test'])
    dir = join(t.home, 'content')
    await mkdir(join(dir, 'sizes'), { recursive: true })
    for (const s of LAYOUT_SIZES) await writeChachaFile(join(dir, 'sizes', s.name), `size-${s.name}`, s.size)
    // A tree with empty files, nested and empty folders, a hidden file (kubo skips it) and a symlink.
    const tree = join(dir, 'tree')
    await mkdir(join(tree, 'nested', 'deeper', 'deepest'), { recursive: true })
    await mkdir(join(tree, 'empty-folder'))
    await writeFile(join(tree, 'empty.bin'), '')
    await writeFile(join(tree, 'nested', 'empty-too'), '')
    await writeFile(join(tree, 'README.md'), '# model\n')
    await writeFile(join(tree, '.hidden'), 'not added')
    await writeChachaFile(join(tree, 'nested', 'deeper', 'weights.bin'), 'tree-weights', 600_000)
    await writeChachaFile(join(tree, 'nested', 'deeper', 'deepest', 'Ünïcode name.txt'), 'tree-unicode', 10)
    await symlink('README.md', join(tree, 'link-to-readme'))
  })
  after(async () => { await t.cleanup() })

  for (const o of options) {
    test(`size table × ${o.label}`, async () => {
      const flags = kuboAddFlags(resolveImportShape(o.opts))
      const out = (await ipfs(t.config.paths.ipfsRepo, ['add', '--only-hash', '-r', ...flags, join(dir, 'sizes')])).toString()
      const kubo = new Map(out.trim().split('\n').map(l => { const [, cid = '', name = ''] = l.split(' '); return [name.replace(/^sizes\//, ''), cid] }))
      for (const s of LAYOUT_SIZES) {
        const ours = await hashPath(join(dir, 'sizes', s.name), o.opts)
        assert.equal(ours.cid, kubo.get(s.name), `${s.name} (${s.size} B: ${s.why})`)
        assert.equal(ours.size, s.size)
      }
    })
  }

  for (const o of options) {
    test(`directory tree × ${o.label}`, async () => {
      const flags = kuboAddFlags(resolveImportShape(o.opts))
      const kubo = (await ipfs(t.config.paths.ipfsRepo, ['add', '--only-hash', '-r', '-Q', ...flags, join(dir, 'tree')])).toString().trim()
      const ours = await hashPath(join(dir, 'tree'), o.opts)
      assert.equal(ours.cid, kubo)
      assert.equal(ours.isDirectory, true)
    })
  }

  test('--car writes a CAR that `ipfs dag import` accepts, with the same root', async () => {
    for (const [name, opts] of [['sizes/full-node-plus-1', {}], ['tree', { cidVersion: 1 }], ['sizes/one-byte', { rawLeaves: true }], ['sizes/empty', {}]] as const) {
      const car = join(t.home, `${name.replace('/', '_')}.car`)
      const events: PublishProgressEvent[] = []
      const res = await writeCar(join(dir, name), car, { ...opts, onProgress: e => events.push(e) })
      assert.equal(res.cid, (await hashPath(join(dir, name), opts)).cid)
      assert.equal(events[0]?.type, 'citrate:publish:start')
      assert.deepEqual(events.at(-1), { type: 'citrate:publish:done', cid: res.cid })
      const imported = (await ipfs(t.config.paths.ipfsRepo, ['dag', 'import', '--pin-roots', '--stats', car])).toString()
      assert.match(imported, new RegExp(`Pinned root\\s+${res.cid}\\s+success`))
      if (!res.isDirectory) {
        const back = await ipfs(t.config.paths.ipfsRepo, ['cat', res.cid])
        assert.ok(back.equals(await readFile(join(dir, name))), `${name} reads back identical`)
      }
    }
  })

  test('a missing path is a typed error', async () => {
    await assert.rejects(hashPath(join(dir, 'does-not-exist')), InvalidArgumentError)
  })
})

describe('add to a running kubo', () => {
  let t: TestHome
  let dir: string
  before(async () => {
    t = await makeTestHome()
    await t.manager.start()
    dir = join(t.home, 'content')
    await mkdir(join(dir, 'tree', 'sub'), { recursive: true })
    await writeChachaFile(join(dir, 'big.bin'), 'kubo-add', 5 * 1024 * 1024 + 3)
    await writeFile(join(dir, 'tree', 'sub', 'empty'), '')
    await writeChachaFile(join(dir, 'tree', 'a.bin'), 'kubo-tree', 300_000)
  })
  after(async () => { await t.cleanup() })

  test('file: kubo stores the CID we computed, pinned under the given name, with progress', async () => {
    const rpc = await t.manager.rpc()
    for (const opts of [{}, { profile: 'unixfs-v1-2025' as const }, { cidVersion: 1 as const, chunker: 'size-100000' }]) {
      const events: PublishProgressEvent[] = []
      const res = await addToKubo(rpc, join(dir, 'big.bin'), { ...opts, pinName: 'big-model', progressIntervalMs: 0, onProgress: e => events.push(e) })
      assert.equal(res.cid, (await hashPath(join(dir, 'big.bin'), opts)).cid)
      const bytes = events.filter(e => e.type === 'citrate:publish:bytes')
      assert.ok(bytes.length >= 2, 'progress reported while adding')
      assert.equal(bytes.at(-1)?.type === 'citrate:publish:bytes' ? bytes.at(-1)?.bytes : -1, 5 * 1024 * 1024 + 3)
      const pins = await rpc.json<{ Keys: Record<string, { Type: string, Name?: string }> }>('pin/ls', { arg: res.cid, type: 'recursive', names: true })
      assert.equal(pins.Keys[res.cid]?.Type, 'recursive')
      assert.equal(pins.Keys[res.cid]?.Name, 'big-model')
    }
  })

  test('directory: same root as local hashing and as the kubo CLI', async () => {
    const rpc = await t.manager.rpc()
    const res = await addToKubo(rpc, join(dir, 'tree'), { cidVersion: 1 })
    assert.equal(res.cid, (await hashPath(join(dir, 'tree'), { cidVersion: 1 })).cid)
    const ls = await rpc.json<{ Objects: Array<{ Links: Array<{ Name: string }> }> }>('ls', { arg: res.cid })
    assert.deepEqual(ls.Objects[0]?.Links.map(l => l.Name), ['a.bin', 'sub'])
  })
})
