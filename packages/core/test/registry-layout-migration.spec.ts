/**
 * The migration from the layout before registry 1.3, on a home this test
 * writes as the old code did: a 1.1 registry with absolute paths, our
 * metadata.json / config.json / dag-index.car beside the content, and a
 * folder CID one level deeper (`models/<id>/<CID>/…`, its own config.json one
 * folder away from ours). Opening the registry moves everything to
 * `models/<id>/.citrate/` and the folder's files up into `models/<id>/`, the
 * entries come back at their new paths, stored relative, and both verify at
 * rest. A migration a crash interrupted halfway is finished by the next open;
 * a folder with its own `.citrate` stays where it was and still verifies. The
 * CIDs are kubo's (`ipfs add`), the DAG indexes made the way the old commit
 * made them.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import {
  DagIndexBuilder, hashPath, readDagIndex, registryOf, removeModel, verifyRegisteredModel, REGISTRY_VERSION, type ModelEntry
} from '../src/index.ts'
import { ipfs, makeTestHome, type TestHome } from './helpers/kubo.ts'
import { treeOf } from './helpers/content.ts'
import { bookkeepingFile, contentTreeOf } from './helpers/layout.ts'
import { tinyGguf, writeHfFolder } from './fixtures/model-files.ts'

let h: TestHome
let scratch: string
before(async () => {
  h = await makeTestHome('auto_pin = false')
  await h.manager.start()
  scratch = await mkdtemp(join(tmpdir(), 'citrate-layout-mig-'))
})
after(async () => {
  await h?.cleanup()
  await rm(scratch, { recursive: true, force: true })
})

interface OldModel { id: string, cid: string, entry: ModelEntry, ownConfig?: Buffer }

/**
 * Writes `src` into models/<id>/ as the pre-1.3 commit did: a file as
 * `<id>/<filename>`, a folder as `<id>/<CID>/`; beside it metadata.json (the
 * entry, its home-relative path, type, files), config.json (model_path, kind,
 * format) and dag-index.car (the interior blocks). The CID is kubo's.
 */
async function writeOldModel (id: string, src: string, type: 'file' | 'directory', filename?: string): Promise<OldModel> {
  const cid = (await ipfs(h.config.paths.ipfsRepo, ['add', ...(type === 'directory' ? ['-r'] : []), '-Q', '--only-hash', src])).toString().trim()
  const dir = join(h.config.paths.models, id)
  await mkdir(dir, { recursive: true })
  const contentPath = join(dir, type === 'directory' ? cid : filename ?? 'model.gguf')
  await cp(src, contentPath, { recursive: true })
  const index = new DagIndexBuilder()
  const hashed = await hashPath(contentPath, { index })
  assert.equal(hashed.cid, cid, 'the old DAG index is of the CID kubo gives')
  await index.write(join(dir, 'dag-index.car'), cid)
  const entry: ModelEntry = {
    id, name: id, cid, size_bytes: hashed.size, quantization: null, downloaded_at: '2026-11-01T10:00:00.000Z',
    path: contentPath, source: 'ipfs', source_url: null, verified: true, kind: 'model'
  }
  const rel = `models/${id}/${type === 'directory' ? cid : filename ?? 'model.gguf'}`
  await writeFile(join(dir, 'metadata.json'), JSON.stringify({ ...entry, path: rel, type, files: type === 'directory' ? 5 : 1 }, null, 2) + '\n')
  await writeFile(join(dir, 'config.json'), JSON.stringify({ model_path: rel, kind: 'model', format: type === 'directory' ? 'folder' : 'gguf' }, null, 2) + '\n')
  return { id, cid, entry, ...(type === 'directory' ? { ownConfig: await readFile(join(src, 'config.json')) } : {}) }
}

/** The 1.1 registry the old code wrote: absolute paths, no `info`. */
async function writeOldRegistry (models: OldModel[]): Promise<void> {
  await writeFile(join(h.config.paths.models, 'registry.json'), JSON.stringify({ version: '1.1', models: models.map(m => m.entry) }, null, 2) + '\n')
}

describe('registry 1.3: the old layout is migrated on first open', () => {
  test('a GGUF and a Hugging Face folder: bookkeeping into .citrate/, the folder\'s files up into models/<id>/, relative paths, both verify', async () => {
    const ggufSrc = join(scratch, 'old.gguf')
    await writeFile(ggufSrc, tinyGguf('Old Layout'))
    const hfSrc = join(scratch, 'old-hf')
    const made = await writeHfFolder(hfSrc)
    const gguf = await writeOldModel('old-gguf', ggufSrc, 'file')
    const hf = await writeOldModel('old-hf', hfSrc, 'directory')
    await writeOldRegistry([gguf, hf])
    const hfDir = join(h.config.paths.models, 'old-hf')
    assert.notDeepEqual(await readFile(join(hfDir, 'config.json')), hf.ownConfig, 'before: our config.json sits where the folder\'s own belongs')

    const registry = registryOf(h.config)
    const [g, f] = await registry.list()
    assert.equal(g?.path, join(h.config.paths.models, 'old-gguf', 'model.gguf'))
    assert.equal(f?.path, hfDir, 'a folder model is the model folder itself')

    // On disk: the folder's own files, exactly, directly in models/<id>/; ours in .citrate/.
    assert.deepEqual(await contentTreeOf(hfDir), await treeOf(hfSrc))
    assert.deepEqual((await readdir(hfDir)).sort(), ['.citrate', ...made.files].sort())
    assert.deepEqual(await readFile(join(hfDir, 'config.json')), hf.ownConfig, 'the folder\'s own config.json, untouched')
    assert.deepEqual((await readdir(join(hfDir, '.citrate'))).sort(), ['config.json', 'dag-index.car', 'metadata.json'])
    assert.deepEqual((await readdir(join(h.config.paths.models, 'old-gguf'))).sort(), ['.citrate', 'model.gguf'])
    const meta = JSON.parse(await readFile(bookkeepingFile(hfDir, 'metadata.json'), 'utf8')) as { path: string, cid: string }
    assert.equal(meta.path, 'models/old-hf')
    assert.equal(meta.cid, hf.cid)
    const ours = JSON.parse(await readFile(bookkeepingFile(hfDir, 'config.json'), 'utf8')) as { model_path: string }
    assert.equal(ours.model_path, 'models/old-hf')

    const stored = JSON.parse(await readFile(registry.file, 'utf8')) as { version: string, models: ModelEntry[] }
    assert.equal(stored.version, REGISTRY_VERSION)
    assert.deepEqual(stored.models.map(m => m.path), ['models/old-gguf/model.gguf', 'models/old-hf'])

    for (const e of [g, f] as ModelEntry[]) {
      const v = await verifyRegisteredModel(h.config, e)
      assert.equal(v.method, 'dag-index', `${e.id} verifies block by block from its moved DAG index`)
      assert.equal(v.cid, e.cid)
    }
    // A second open changes nothing.
    const before = await readFile(registry.file, 'utf8')
    assert.deepEqual((await registryOf(h.config).list()).map(m => m.path), [g?.path, f?.path])
    assert.equal(await readFile(registry.file, 'utf8'), before)

    // models rm takes the folder, .citrate/ and all.
    await removeModel(h.config, 'old-hf', { keepPin: true })
    assert.deepEqual((await readdir(h.config.paths.models)).filter(n => n.startsWith('old-hf')), [])
    await removeModel(h.config, 'old-gguf', { keepPin: true })
  })

  test('a migration a crash interrupted (the folder half moved up, or all moved before the registry was rewritten) is finished by the next open', async () => {
    const src = join(scratch, 'half-hf')
    await writeHfFolder(src)
    const m = await writeOldModel('half-hf', src, 'directory')
    await writeOldRegistry([m])
    // What a crash in the middle leaves: ours in .citrate/, the content renamed to .citrate-flatten and two files already moved up.
    const dir = join(h.config.paths.models, 'half-hf')
    await mkdir(join(dir, '.citrate'))
    for (const name of ['metadata.json', 'config.json', 'dag-index.car']) await rename(join(dir, name), join(dir, '.citrate', name))
    await rename(join(dir, m.cid), join(dir, '.citrate-flatten'))
    for (const name of ['config.json', 'tokenizer.json']) await rename(join(dir, '.citrate-flatten', name), join(dir, name))

    const [e] = await registryOf(h.config).list()
    assert.equal(e?.path, dir)
    assert.deepEqual(await contentTreeOf(dir), await treeOf(src))
    assert.equal((await verifyRegisteredModel(h.config, e as ModelEntry)).method, 'dag-index')

    // A crash after every file moved, before the registry was rewritten: the old registry names a folder that is gone.
    await writeOldRegistry([{ ...m, entry: { ...m.entry, path: join(dir, m.cid) } }])
    const [again] = await registryOf(h.config).list()
    assert.equal(again?.path, dir)
    assert.equal((await verifyRegisteredModel(h.config, again as ModelEntry)).method, 'dag-index')
    await removeModel(h.config, 'half-hf', { keepPin: true })
  })

  test('a folder with its own top-level .citrate stays one level deeper (nothing merged) and still verifies', async () => {
    const src = join(scratch, 'own-citrate')
    await writeHfFolder(src)
    await mkdir(join(src, '.citrate'))
    await writeFile(join(src, '.citrate', 'notes.txt'), 'the publisher\'s own file\n')
    const cid = (await ipfs(h.config.paths.ipfsRepo, ['add', '-r', '--hidden', '-Q', '--only-hash', src])).toString().trim()
    // hashPath skips dotfiles as `ipfs add` does without --hidden: this index is made from kubo's own blocks.
    const dir = join(h.config.paths.models, 'own-citrate')
    await mkdir(dir, { recursive: true })
    await cp(src, join(dir, cid), { recursive: true })
    await ipfs(h.config.paths.ipfsRepo, ['add', '-r', '--hidden', '-Q', '--pin=false', src])
    const car = join(scratch, 'own.car')
    await writeFile(car, await ipfs(h.config.paths.ipfsRepo, ['dag', 'export', cid]))
    const index = new DagIndexBuilder()
    for (const [k, bytes] of (await readDagIndex(car)).blocks) index.add(CID.parse(k), bytes)
    await index.write(join(dir, 'dag-index.car'), cid)
    const entry: ModelEntry = {
      id: 'own-citrate', name: 'own-citrate', cid, size_bytes: 1, quantization: null, downloaded_at: '2026-11-01T10:00:00.000Z',
      path: join(dir, cid), source: 'ipfs', source_url: null, verified: true, kind: 'model'
    }
    await writeFile(join(dir, 'metadata.json'), JSON.stringify({ ...entry, path: `models/own-citrate/${cid}` }) + '\n')
    await writeOldRegistry([{ id: 'own-citrate', cid, entry }])

    const [e] = await registryOf(h.config).list()
    assert.equal(e?.path, join(dir, cid), 'left where it was')
    assert.deepEqual((await readdir(dir)).sort(), ['.citrate', cid].sort())
    assert.equal(await readFile(join(dir, cid, '.citrate', 'notes.txt'), 'utf8'), 'the publisher\'s own file\n')
    assert.equal((await verifyRegisteredModel(h.config, e as ModelEntry)).method, 'dag-index')
  })
})
