import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFile, mkdir, rm, symlink, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CarBlockIterator } from '@ipld/car/iterator'
import { createReadStream } from 'node:fs'
import {
  ContentCorruptError, ContentMismatchError, DagIndexBuilder, DagIndexError, hashPath, modelDir, readDagIndex, verifyContent, verifyModel, DAG_INDEX_FILE,
  type ImportShapeOptions, type ModelEntry
} from '../src/index.ts'
import { initRepo } from '../src/daemon/repo.ts'
import { ipfs, makeTestHome, testKuboBinary, type TestHome } from './helpers/kubo.ts'
import { flipByte, writeChachaFile } from './helpers/content.ts'
import { bookkeepingFile } from './helpers/layout.ts'

async function indexed (path: string, opts: ImportShapeOptions, indexFile: string): Promise<string> {
  const index = new DagIndexBuilder()
  const { cid } = await hashPath(path, { ...opts, index })
  await index.write(indexFile, cid)
  return cid
}

describe('verify at rest (no daemon)', () => {
  let t: TestHome
  let dir: string
  before(async () => {
    t = await makeTestHome()
    dir = join(t.home, 'content')
    await mkdir(dir, { recursive: true })
  })
  after(async () => { await t.cleanup() })

  test('a single flipped byte in a multi-chunk model is caught and located', async () => {
    const file = join(dir, 'model.gguf')
    await writeChachaFile(file, 'verify-model', 174 * 262_144 + 5000)
    const idx = join(dir, 'model.idx.car')
    const cid = await indexed(file, {}, idx)
    const index = await readDagIndex(idx)
    assert.equal(index.root.toString(), cid)
    const ok = await verifyContent('m', file, index)
    assert.equal(ok.bytes, 174 * 262_144 + 5000)
    assert.equal(ok.cid, cid)

    const flipped = 30_000_123
    await flipByte(file, flipped)
    const err = await verifyContent('m', file, index).catch((e: unknown) => e)
    assert.ok(err instanceof ContentCorruptError, String(err))
    assert.equal(err.code, 'CONTENT_CORRUPT')
    assert.equal(err.offset, Math.floor(flipped / 262_144) * 262_144, 'first byte of the block holding the flipped byte')
    assert.ok(err.offset <= flipped && flipped < err.offset + 262_144)
    assert.match(err.message, /from byte offset 29884416/)
    await flipByte(file, flipped)
    await verifyContent('m', file, index)
  })

  test('the index is a tiny fraction of the content', async () => {
    const index = new DagIndexBuilder()
    await hashPath(join(dir, 'model.gguf'), { index })
    const indexBytes = [...index.blocks.values()].reduce((s, b) => s + b.byteLength, 0)
    assert.equal(index.blocks.size, 2 + 1, 'two 174-link parents and the root')
    assert.ok(indexBytes < 20_000, `${indexBytes} bytes of index for 45 MB`)
  })

  for (const [label, opts] of [
    ['--cid-version 1', { cidVersion: 1 }], ['unixfs-v1-2025', { profile: 'unixfs-v1-2025' }], ['size-1000 dag-pb leaves', { chunker: 'size-1000' }],
    ['--raw-leaves CIDv0', { rawLeaves: true }], ['v1 without raw leaves', { cidVersion: 1, rawLeaves: false }]
  ] as Array<[string, ImportShapeOptions]>) {
    test(`every shape verifies, and catches a flip: ${label}`, async () => {
      for (const size of [0, 1, 262_144, 2_100_000]) {
        const file = join(dir, `shape-${size}`)
        await writeChachaFile(file, `shape-${label}-${size}`, size)
        const idx = join(dir, `shape-${size}.car`)
        await indexed(file, opts, idx)
        const index = await readDagIndex(idx)
        await verifyContent('s', file, index)
        if (size > 0) {
          await flipByte(file, size - 1)
          await assert.rejects(verifyContent('s', file, index), ContentCorruptError, `${label} ${size}`)
        }
      }
    })
  }

  test('truncation and trailing bytes are reported at the right offset', async () => {
    const file = join(dir, 'trunc.bin')
    await writeChachaFile(file, 'trunc', 1_000_000)
    const idx = join(dir, 'trunc.car')
    await indexed(file, {}, idx)
    const index = await readDagIndex(idx)
    await truncate(file, 600_000)
    await assert.rejects(verifyContent('t', file, index), (e: ContentCorruptError) => e.offset === 600_000 && /truncated/.test(e.message))
    await writeChachaFile(file, 'trunc', 1_000_000)
    await appendFile(file, 'extra')
    await assert.rejects(verifyContent('t', file, index), (e: ContentCorruptError) => e.offset === 1_000_000 && /extra bytes/.test(e.message))
  })

  test('directories: nested files, empty files, symlinks; a changed or missing file is named', async () => {
    const tree = join(dir, 'tree')
    await mkdir(join(tree, 'a', 'b'), { recursive: true })
    await mkdir(join(tree, 'empty-folder'))
    await writeFile(join(tree, 'empty.txt'), '')
    await writeChachaFile(join(tree, 'a', 'b', 'weights.bin'), 'tree-w', 700_000)
    await writeFile(join(tree, 'a', 'config.json'), '{"ctx":4096}')
    await symlink('a/config.json', join(tree, 'config-link'))
    const idx = join(dir, 'tree.car')
    await indexed(tree, { cidVersion: 1 }, idx)
    const index = await readDagIndex(idx)
    const ok = await verifyContent('d', tree, index)
    assert.equal(ok.files, 3)
    await flipByte(join(tree, 'a', 'b', 'weights.bin'), 600_000)
    await assert.rejects(verifyContent('d', tree, index), (e: ContentCorruptError) => e.path === join(tree, 'a', 'b', 'weights.bin') && e.offset === 524_288)
    await flipByte(join(tree, 'a', 'b', 'weights.bin'), 600_000)
    await rm(join(tree, 'a', 'config.json'))
    await assert.rejects(verifyContent('d', tree, index), (e: ContentCorruptError) => e.path === join(tree, 'a', 'config.json') && /missing/.test(e.message))
  })

  test('a damaged index is reported as such, not as bad content', async () => {
    const file = join(dir, 'model.gguf')
    const idx = join(dir, 'model.idx.car')
    const index = await readDagIndex(idx)
    const [key, block] = [...index.blocks.entries()][0] ?? ['', new Uint8Array()]
    block[block.length - 1] = (block[block.length - 1] ?? 0) ^ 1
    index.blocks.set(key, block)
    await assert.rejects(verifyContent('m', file, index), DagIndexError)
  })

  test('DAGs made by kubo with other layouts and chunkers (trickle, rabin, buzhash) re-verify from an index built from their blocks', async () => {
    const repo = t.config.paths.ipfsRepo
    await initRepo(testKuboBinary(), repo, ['test'])
    const file = join(dir, 'kubo-made.bin')
    await writeChachaFile(file, 'kubo-layouts', 3_000_000)
    for (const flags of [['--trickle'], ['--chunker=rabin-65536-262144-524288'], ['--chunker=buzhash'], ['--trickle', '--cid-version=1'], ['--chunker=size-4096', '--max-file-links=7']]) {
      const cid = (await ipfs(repo, ['add', '-Q', ...flags, file])).toString().trim()
      const car = join(dir, 'kubo.car')
      await writeFile(car, await ipfs(repo, ['dag', 'export', cid]))
      const builder = new DagIndexBuilder()
      for await (const block of await CarBlockIterator.fromIterable(createReadStream(car))) builder.add(block.cid, block.bytes)
      const idx = join(dir, 'kubo.idx.car')
      await builder.write(idx, cid)
      const index = await readDagIndex(idx)
      await verifyContent('k', file, index)
      await flipByte(file, 2_999_999)
      await assert.rejects(verifyContent('k', file, index), ContentCorruptError, flags.join(' '))
      await flipByte(file, 2_999_999)
    }
  })

  test('verifyModel: with a recorded index (located damage) or, without one, by re-hashing with kubo\'s standard shapes', async () => {
    const modelsDir = join(dir, 'models')
    const file = join(dir, 'registry-model.bin')
    await writeChachaFile(file, 'verify-model-entry', 900_000)
    const entryFor = async (id: string, opts: ImportShapeOptions, withIndex: boolean): Promise<ModelEntry> => {
      const index = new DagIndexBuilder()
      const { cid } = await hashPath(file, { ...opts, index })
      if (withIndex) await index.write(bookkeepingFile(modelDir(modelsDir, id), DAG_INDEX_FILE), cid)
      return { id, name: id, cid, size_bytes: 900_000, quantization: null, downloaded_at: new Date().toISOString(), path: file, source: 'ipfs', source_url: null, verified: true, kind: 'model' }
    }
    const indexed = await entryFor('with-index', {}, true)
    const v0 = await entryFor('v0-no-index', {}, false)
    const v1 = await entryFor('v1-2025-no-index', { profile: 'unixfs-v1-2025' }, false)
    assert.equal((await verifyModel(indexed, { modelsDir })).method, 'dag-index')
    assert.equal((await verifyModel(v0, { modelsDir })).method, 'rehash')
    assert.equal((await verifyModel(v1, { modelsDir })).method, 'rehash')
    await flipByte(file, 800_000)
    await assert.rejects(verifyModel(indexed, { modelsDir }), (e: ContentCorruptError) => e instanceof ContentCorruptError && e.offset === 786_432)
    await assert.rejects(verifyModel(v0, { modelsDir }), ContentMismatchError)
    await assert.rejects(verifyModel(v1, { modelsDir }), ContentMismatchError)
    await assert.rejects(verifyModel({ ...indexed, cid: v1.cid }, { modelsDir }), DagIndexError)
  })
})
