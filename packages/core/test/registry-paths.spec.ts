/**
 * Registry paths relative to CITRATE_HOME: stored as in the seed
 * (`models/<id>/model.gguf`), absolute in memory, absolute ones inside the
 * home rewritten on load, and a home moved to another place keeps verifying
 * (against real kubo).
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fromStoredPath, loadConfig, ModelRegistry, pull, registryOf, toStoredPath, verifyRegisteredModel, REGISTRY_VERSION, type ModelEntry } from '../src/index.ts'
import { addBytes, makeTestHome } from './helpers/kubo.ts'
import { bookkeepingFile } from './helpers/layout.ts'
import { tinyGguf } from './fixtures/model-files.ts'

const dirs: string[] = []
async function tempDir (): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'citrate-regpaths-'))
  dirs.push(d)
  return d
}
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }) })

function entry (id: string, path: string): ModelEntry {
  return {
    id, name: id, cid: 'QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH', size_bytes: 0, quantization: null,
    downloaded_at: '2026-01-02T03:04:05.000Z', path, source: 'ipfs', source_url: null, verified: true, kind: 'model'
  }
}

describe('stored paths', () => {
  test('toStoredPath / fromStoredPath: inside the home relative with /, outside absolute', () => {
    assert.equal(toStoredPath('/h', '/h/models/q/model.gguf'), 'models/q/model.gguf')
    assert.equal(toStoredPath('/h', '/h2/models/q'), '/h2/models/q')
    assert.equal(toStoredPath('/h', '/elsewhere/x'), '/elsewhere/x')
    assert.equal(toStoredPath('/h', '/h'), '/h')
    assert.equal(fromStoredPath('/new', 'models/q/model.gguf'), join('/new', 'models', 'q', 'model.gguf'))
    assert.equal(fromStoredPath('/new', '/abs/x'), '/abs/x')
  })

  test('the registry stores relative paths and returns absolute ones; an absolute one outside the home stays', async () => {
    const home = await tempDir()
    const r = new ModelRegistry({ modelsDir: join(home, 'models'), home })
    await r.upsert(entry('inside', join(home, 'models', 'inside', 'model.gguf')))
    await r.upsert(entry('outside', '/srv/published/weights'))
    const doc = JSON.parse(await readFile(r.file, 'utf8')) as { version: string, models: ModelEntry[] }
    assert.equal(doc.version, REGISTRY_VERSION)
    assert.deepEqual(doc.models.map(m => m.path), ['models/inside/model.gguf', '/srv/published/weights'])
    assert.deepEqual((await r.list()).map(m => m.path), [join(home, 'models', 'inside', 'model.gguf'), '/srv/published/weights'])
  })

  test('a 1.1 registry with absolute paths is rewritten relative on load; "../" in a stored path is refused', async () => {
    const home = await tempDir()
    const modelsDir = join(home, 'models')
    await mkdir(modelsDir)
    const file = join(modelsDir, 'registry.json')
    await writeFile(file, JSON.stringify({ version: '1.1', models: [entry('old', join(home, 'models', 'old', 'model.gguf'))] }))
    const r = new ModelRegistry({ modelsDir, home })
    assert.equal((await r.get('old'))?.path, join(home, 'models', 'old', 'model.gguf'))
    const doc = JSON.parse(await readFile(file, 'utf8')) as { version: string, models: ModelEntry[] }
    assert.equal(doc.version, REGISTRY_VERSION)
    assert.equal(doc.models[0]?.path, 'models/old/model.gguf')

    await writeFile(file, JSON.stringify({ version: REGISTRY_VERSION, models: [entry('evil', '../outside/model.gguf')] }))
    await assert.rejects(new ModelRegistry({ modelsDir, home }).list(), (err: Error & { code?: string }) => err.code === 'REGISTRY_CORRUPT' && /models\[0\]\.path/.test(err.message))
  })
})

describe('a moved home', () => {
  test('pulled, the home moved elsewhere: the entry resolves under the new home and models verify passes', async () => {
    const h = await makeTestHome('auto_pin = false')
    let moved: string | undefined
    try {
      const { status } = await h.manager.start()
      const cid = await addBytes(h.config.paths.ipfsRepo, await tempDir(), 'm.gguf', tinyGguf('Moving Model'))
      const r = await pull({ cid, config: h.config, sources: [status.gatewayUrl as string], publicGateways: [] })
      const stored = JSON.parse(await readFile(join(h.config.paths.models, 'registry.json'), 'utf8')) as { models: ModelEntry[] }
      assert.equal(stored.models[0]?.path, 'models/Moving-Model/model.gguf')
      const meta = JSON.parse(await readFile(bookkeepingFile(r.dir, 'metadata.json'), 'utf8')) as ModelEntry
      assert.equal(meta.path, 'models/Moving-Model/model.gguf')
      await h.manager.stop()

      moved = join(await tempDir(), 'moved-home')
      await rename(h.home, moved)
      const config = await loadConfig({ home: moved })
      const e = await registryOf(config).get('Moving-Model')
      assert.equal(e?.path, join(moved, 'models', 'Moving-Model', 'model.gguf'))
      const v = await verifyRegisteredModel(config, e as ModelEntry)
      assert.equal(v.method, 'dag-index')
    } finally {
      if (moved != null) await rename(moved, h.home).catch(() => {})
      await h.cleanup()
    }
  })
})
