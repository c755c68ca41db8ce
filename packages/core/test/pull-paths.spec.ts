/**
 * Pull by content path against real kubo: every form users paste pulls the
 * right bytes, only the target is fetched, the path's name names the file
 * and the id, a path through a HAMT-sharded folder (kubo made to shard it)
 * resolves, and unsafe or missing paths are refused before anything is written.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { CID } from 'multiformats/cid'
import { base36 } from 'multiformats/bases/base36'
import { pull, verifyRegisteredModel } from '../src/index.ts'
import { decodeNode } from '../src/ipld/unixfs.ts'
import { chachaBytes, treeOf } from './helpers/content.ts'
import { ipfs, makeTestHome, type TestHome } from './helpers/kubo.ts'
import { tinyGguf } from './fixtures/model-files.ts'

let h: TestHome
let gateway: string
let scratch: string
let folder: string
/** The same folder added with kubo's defaults: CIDv0. */
let folderV0: string
/** The model file inside the folder, and a big sibling a path pull must not fetch. */
const gguf = tinyGguf('Path Test')
const big = chachaBytes('big-sibling', 3 * 1024 * 1024)
const spaced = chachaBytes('spaced', 70_000)

before(async () => {
  h = await makeTestHome('auto_pin = false')
  const { status } = await h.manager.start()
  gateway = status.gatewayUrl as string
  scratch = await mkdtemp(join(tmpdir(), 'citrate-paths-'))
  const dir = join(scratch, 'repo')
  await mkdir(join(dir, 'quants', 'extra'), { recursive: true })
  await writeFile(join(dir, 'quants', 'tiny-Q4_K_M.gguf'), gguf)
  await writeFile(join(dir, 'quants', 'my model (v2).bin'), spaced)
  await writeFile(join(dir, 'quants', 'extra', 'README.md'), 'extra\n')
  await writeFile(join(dir, 'big.bin'), big)
  folder = await addDir(dir, ['--cid-version=1'])
  folderV0 = await addDir(dir, [])
})
after(async () => {
  await h?.cleanup()
  await rm(scratch, { recursive: true, force: true })
})

async function addDir (dir: string, flags: string[]): Promise<string> {
  return (await ipfs(h.config.paths.ipfsRepo, ['add', '-r', '-Q', '--pin=false', ...flags, dir])).toString().trim()
}

/** Bytes of every HAMT shard block of folder `cid` (the whole listing). */
async function shardBytes (cid: string): Promise<number> {
  const bytes = await ipfs(h.config.paths.ipfsRepo, ['block', 'get', cid])
  const node = decodeNode(CID.parse(cid), bytes)
  let total = bytes.byteLength
  if (node.type === 'hamt') for (const s of node.shards) total += await shardBytes(s.toString())
  return total
}

const pullIt = async (cid: string, extra: { name?: string, filename?: string } = {}): ReturnType<typeof pull> =>
  await pull({ cid, config: h.config, sources: [gateway], publicGateways: [], ...extra })

describe('pull by content path', () => {
  test('<cid>/<folder>/<file>: only the file is fetched; the path names the file and the id', async () => {
    const r = await pullIt(`${folder}/quants/tiny-Q4_K_M.gguf`)
    assert.equal(r.type, 'file')
    assert.ok((await readFile(r.path)).equals(gguf))
    assert.equal(basename(r.path), 'tiny-Q4_K_M.gguf')
    assert.equal(r.entry.id, 'tiny-Q4_K_M')
    assert.equal(r.path, join(h.config.paths.models, 'tiny-Q4_K_M', 'tiny-Q4_K_M.gguf'))
    assert.equal(r.contentPath, `${folder}/quants/tiny-Q4_K_M.gguf`)
    // The registry holds the file's own CID (what kubo says the path is), and it verifies at rest.
    const fileCid = (await ipfs(h.config.paths.ipfsRepo, ['resolve', `/ipfs/${folder}/quants/tiny-Q4_K_M.gguf`])).toString().trim().replace('/ipfs/', '')
    assert.equal(r.entry.cid, fileCid)
    assert.equal(r.totalBytes, gguf.byteLength)
    // Two folder nodes and the file: nowhere near the 3 MiB sibling.
    assert.ok(r.fetchedBytes < gguf.byteLength + 8192, `fetched ${r.fetchedBytes} for a ${gguf.byteLength}-byte file`)
    await verifyRegisteredModel(h.config, r.entry)
  })

  test('every paste form pulls the same bytes (byte-identical)', async () => {
    const v1 = CID.parse(folder)
    const forms: Array<[string, string]> = [
      ['slash', `${folder}/quants/my model (v2).bin`],
      ['ipfs-path', `/ipfs/${folder}/quants/my model (v2).bin`],
      ['ipfs-url', `ipfs://${folder}/quants/my%20model%20(v2).bin`],
      ['path-gateway', `${gateway}/ipfs/${folder}/quants/my%20model%20%28v2%29.bin?filename=x.bin`],
      ['subdomain-b32', `https://${v1.toString()}.ipfs.dweb.link/quants/my%20model%20(v2).bin`],
      ['subdomain-b36', `http://${v1.toString(base36)}.ipfs.localhost:8080/quants/my%20model%20(v2).bin`],
      ['v0-path', `/ipfs/${folderV0}/quants/my model (v2).bin`],
      ['v0-gateway', `https://ipfs.io/ipfs/${folderV0}/quants/my%20model%20(v2).bin`]
    ]
    for (const [name, form] of forms) {
      const r = await pullIt(form, { name: `spaced-${name}` })
      assert.ok((await readFile(r.path)).equals(spaced), form)
      assert.equal(basename(r.path), 'my model (v2).bin', form)
    }
    // Without a name, the id comes from the file name, made safe.
    const r = await pullIt(`ipfs://${folder}/quants/my%20model%20(v2).bin`)
    assert.equal(r.entry.id, 'my-model-v2-')
  })

  test('--filename and --name still win over the path', async () => {
    const r = await pullIt(`${folder}/quants/tiny-Q4_K_M.gguf`, { name: 'chosen', filename: 'weights.gguf' })
    assert.equal(r.entry.id, 'chosen')
    assert.equal(basename(r.path), 'weights.gguf')
    assert.ok((await readFile(r.path)).equals(gguf))
  })

  test('<cid>/<subfolder> pulls just that folder', async () => {
    const r = await pullIt(`${folder}/quants/`)
    assert.equal(r.type, 'directory')
    assert.equal(r.entry.id, 'quants')
    assert.equal(basename(r.path), 'quants')
    // The folder's files as published; our bookkeeping beside them only in .citrate/.
    const tree = [...(await treeOf(r.path)).keys()].sort()
    assert.deepEqual(tree.filter(k => !k.startsWith('.citrate')), ['extra', 'extra/README.md', 'my model (v2).bin', 'tiny-Q4_K_M.gguf'])
    assert.ok(tree.includes('.citrate/metadata.json'))
    assert.ok((await readFile(join(r.path, 'tiny-Q4_K_M.gguf'))).equals(gguf))
    assert.ok(r.fetchedBytes < 200_000, `fetched ${r.fetchedBytes}`)
  })

  test('refusals: .. is INVALID_CID, a missing entry PATH_NOT_FOUND, a path through a file PATH_NOT_FOUND; nothing written', async () => {
    const before = await readdir(h.config.paths.models)
    await assert.rejects(pullIt(`${folder}/../x`), (e: Error & { code?: string }) => e.code === 'INVALID_CID' && /"\.\." segments are not allowed/.test(e.message))
    await assert.rejects(pullIt(`${folder}/quants/nope.gguf`), (e: Error & { code?: string }) => e.code === 'PATH_NOT_FOUND' && e.message.includes('"nope.gguf"') && e.message.includes(`${folder}/quants`))
    await assert.rejects(pullIt(`${folder}/big.bin/inside`), (e: Error & { code?: string }) => e.code === 'PATH_NOT_FOUND' && /it is a file, not a folder/.test(e.message))
    await assert.rejects(pullIt(`${folder}/Quants/tiny-Q4_K_M.gguf`), { code: 'PATH_NOT_FOUND' })
    assert.deepEqual(await readdir(h.config.paths.models), before)
  })
})

describe('pull by path through a HAMT-sharded folder', () => {
  for (const [what, fanout, entries] of [['fanout 16 (one hex digit, sub-shards)', 16, 120], ['fanout 256 (kubo default)', 256, 400]] as const) {
    test(what, async () => {
      const dir = join(scratch, `hamt-${fanout}`)
      await mkdir(dir, { recursive: true })
      const names = Array.from({ length: entries }, (_, i) => `shard-${i}-${'x'.repeat(i % 7)}.bin`)
      for (const [i, n] of names.entries()) await writeFile(join(dir, n), chachaBytes(`hamt-${fanout}-${i}`, 100 + i))
      const cid = await addDir(dir, ['--cid-version=1', '--max-directory-links=8', `--max-hamt-fanout=${fanout}`])
      // It really is a HAMT, with sub-shards.
      const root = decodeNode(CID.parse(cid), await ipfs(h.config.paths.ipfsRepo, ['block', 'get', cid]))
      assert.equal(root.type, 'hamt')
      assert.equal(root.type === 'hamt' && root.fanout, fanout)
      assert.ok(root.type === 'hamt' && root.shards.length > 0, 'has sub-shards')
      const listing = await shardBytes(cid)
      for (const i of [0, 1, 57, entries - 1]) {
        const name = names[i] as string
        const r = await pullIt(`/ipfs/${cid}/${name}`, { name: `hamt-${fanout}-${i}` })
        assert.ok((await readFile(r.path)).equals(chachaBytes(`hamt-${fanout}-${i}`, 100 + i)), name)
        assert.equal(basename(r.path), name)
        // The shards on the name's hash path, never the whole listing.
        const shardsRead = r.fetchedBytes - (100 + i)
        assert.ok(shardsRead > 0 && shardsRead < (fanout === 16 ? listing / 2 : listing), `${name}: ${shardsRead} of ${listing} shard bytes read`)
      }
      await assert.rejects(pullIt(`${cid}/not-there.bin`), { code: 'PATH_NOT_FOUND' })
    })
  }
})
