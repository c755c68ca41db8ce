/**
 * One verification core for pull and `models verify`: content kubo makes
 * with any hash function pull accepts, and HAMT-sharded folders, is pulled
 * from the test daemon's gateway and then re-proved at rest from its DAG
 * index; one flipped byte is reported with its file and the offset of the
 * first byte of the block that holds it.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { ContentCorruptError, pull, registryOf, verifyRegisteredModel, type ModelEntry } from '../src/index.ts'
import { initRepo } from '../src/daemon/repo.ts'
import { chachaBytes, flipByte } from './helpers/content.ts'
import { ipfs, makeTestHome, testKuboBinary, type TestHome } from './helpers/kubo.ts'

const CHUNK = 262_144

let h: TestHome
let gatewayUrl: string
let scratch: string
before(async () => {
  h = await makeTestHome('auto_pin = false')
  // kubo shards a folder once its serialized size passes this threshold (256 KiB by default): 1 KiB
  // makes a folder of 40 entries a HAMT, and fanout 16 makes it deep enough to have sub-shards.
  await initRepo(testKuboBinary(), h.config.paths.ipfsRepo, ['test'])
  await ipfs(h.config.paths.ipfsRepo, ['config', 'Import.UnixFSHAMTDirectorySizeThreshold', '1KiB'])
  await ipfs(h.config.paths.ipfsRepo, ['config', '--json', 'Import.UnixFSHAMTDirectoryMaxFanout', '16'])
  gatewayUrl = (await h.manager.start()).status.gatewayUrl
  scratch = join(h.home, 'content')
  await mkdir(scratch, { recursive: true })
})
after(async () => { await h?.cleanup() })

async function addFile (name: string, data: Uint8Array, flags: string[]): Promise<string> {
  const file = join(scratch, name)
  await writeFile(file, data)
  return (await ipfs(h.config.paths.ipfsRepo, ['add', '-Q', '--pin=false', ...flags, file])).toString().trim()
}

/** Pulls `cid` from the daemon's gateway only (no public gateways) under `name`. */
async function pullFromGateway (cid: string, name: string): Promise<ModelEntry> {
  const res = await pull({ cid, config: h.config, name, sources: [gatewayUrl], publicGateways: [] })
  return res.entry
}

/** Verifies, expecting CONTENT_CORRUPT at `path` and `offset`; the registry then says unverified. */
async function expectCorrupt (entry: ModelEntry, path: string, offset: number): Promise<void> {
  const err = await verifyRegisteredModel(h.config, entry).catch((e: unknown) => e)
  assert.ok(err instanceof ContentCorruptError, `expected ContentCorruptError, got ${String(err)}`)
  assert.equal(err.code, 'CONTENT_CORRUPT')
  assert.equal(err.path, path)
  assert.equal(err.offset, offset, err.message)
  assert.equal((await registryOf(h.config).get(entry.id))?.verified, false)
}

describe('models verify re-proves what pull accepted, whatever the hash function', () => {
  const CASES: Array<{ label: string, flags: string[], size: number, chunk: number, flip: number }> = [
    { label: 'blake2b-256 (CIDv1 implied, raw leaves)', flags: ['--hash=blake2b-256'], size: 5 * CHUNK + 1000, chunk: CHUNK, flip: 3 * CHUNK + 4321 },
    { label: 'blake3, --cid-version 1', flags: ['--hash=blake3', '--cid-version=1', '--chunker=size-100000'], size: 1_234_567, chunk: 100_000, flip: 876_543 },
    { label: 'blake3, CIDv1 with dag-pb leaves', flags: ['--hash=blake3', '--cid-version=1', '--raw-leaves=false', '--chunker=size-100000'], size: 456_789, chunk: 100_000, flip: 456_788 }
  ]
  CASES.forEach((c, i) => {
    test(`${c.label}: pulled, verified at rest, one flipped byte located`, async () => {
      const data = chachaBytes(c.label, c.size)
      const cid = await addFile(`hash-${i}.bin`, data, c.flags)
      assert.match(cid, /^bafk|^bafy/, 'a CIDv1')
      const entry = await pullFromGateway(cid, `hash-${i}`)
      const ok = await verifyRegisteredModel(h.config, entry)
      assert.equal(ok.method, 'dag-index')
      assert.equal(ok.bytes, c.size)
      assert.equal(ok.blocks, Math.ceil(c.size / c.chunk) + 1, 'every leaf and the root')

      await flipByte(entry.path, c.flip)
      await expectCorrupt(entry, entry.path, Math.floor(c.flip / c.chunk) * c.chunk)
      await flipByte(entry.path, c.flip)
      const marked = await registryOf(h.config).get(entry.id)
      assert.ok(marked != null)
      assert.equal((await verifyRegisteredModel(h.config, marked)).bytes, c.size)
      assert.equal((await registryOf(h.config).get(entry.id))?.verified, true, 'a good verify marks it verified again')
    })
  })

  // Every other hash function pull's verifier accepts that kubo's `--hash` offers (it has no keccak-224/384); small chunks make them multi-block.
  for (const hash of ['sha1', 'sha2-512', 'sha3-224', 'sha3-256', 'sha3-384', 'sha3-512', 'keccak-256', 'keccak-512', 'blake2b-160', 'blake2b-512', 'blake2s-256', 'dbl-sha2-256']) {
    test(`${hash}: pulled, verified at rest, one flipped byte located`, async () => {
      const size = 10_000
      const cid = await addFile(`${hash}.bin`, chachaBytes(hash, size), [`--hash=${hash}`, '--chunker=size-1024'])
      const entry = await pullFromGateway(cid, `h-${hash}`)
      assert.equal((await verifyRegisteredModel(h.config, entry)).bytes, size)
      await flipByte(entry.path, 5000)
      await expectCorrupt(entry, entry.path, 4096)
    })
  }
})

describe('models verify on a HAMT-sharded folder', () => {
  test('the folder kubo shards is pulled and verified; a flipped byte, a missing and an extra file are each named', async () => {
    const src = join(scratch, 'sharded')
    await mkdir(src, { recursive: true })
    for (let i = 0; i < 40; i++) await writeFile(join(src, `shard-entry-${i}.txt`), chachaBytes(`entry-${i}`, 50 + i * 13))
    const weightsSize = 4 * CHUNK + 999
    await writeFile(join(src, 'weights.bin'), chachaBytes('hamt-weights', weightsSize))
    const cid = (await ipfs(h.config.paths.ipfsRepo, ['add', '-r', '-Q', '--pin=false', '--cid-version=1', src])).toString().trim()

    // The root really is a HAMT, with sub-shards (link names that are only the bucket's hex digit).
    const root = dagPb.decode(await ipfs(h.config.paths.ipfsRepo, ['block', 'get', cid]))
    assert.equal(UnixFS.unmarshal(root.Data ?? new Uint8Array()).type, 'hamt-sharded-directory')
    assert.ok(root.Links.some(l => l.Name?.length === 1), 'the HAMT has at least one sub-shard')

    const entry = await pullFromGateway(cid, 'sharded-folder')
    assert.equal((await readdir(entry.path)).filter(n => n !== '.citrate').length, 41, 'the 41 files as published (our bookkeeping only in .citrate/)')
    const ok = await verifyRegisteredModel(h.config, entry)
    assert.equal(ok.method, 'dag-index')
    assert.equal(ok.files, 41)
    assert.equal(ok.bytes, weightsSize + Array.from({ length: 40 }, (_, i) => 50 + i * 13).reduce((a, b) => a + b, 0))

    const weights = join(entry.path, 'weights.bin')
    const flipped = 2 * CHUNK + 12_345
    await flipByte(weights, flipped)
    await expectCorrupt(entry, weights, 2 * CHUNK)
    await flipByte(weights, flipped)
    await verifyRegisteredModel(h.config, entry)

    const small = join(entry.path, 'shard-entry-7.txt')
    await flipByte(small, 3)
    await expectCorrupt(entry, small, 0)
    await flipByte(small, 3)

    const extra = join(entry.path, 'not-in-the-dag.txt')
    await writeFile(extra, 'x')
    await expectCorrupt(entry, extra, 0)
    await rm(extra)

    const moved = join(entry.path, 'shard-entry-30.txt')
    await rm(moved)
    await assert.rejects(verifyRegisteredModel(h.config, entry), (e: ContentCorruptError) => e.code === 'CONTENT_CORRUPT' && e.path === moved && /missing/.test(e.message))
  })
})
