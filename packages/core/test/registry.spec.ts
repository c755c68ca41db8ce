import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  InvalidModelIdError, ModelNotFoundError, ModelRegistry, RegistryCorruptError, RegistryVersionError,
  sanitizeModelId, modelIdFromName, writeModelFiles, REGISTRY_VERSION, type ModelEntry
} from '../src/index.ts'

const WRITER = fileURLToPath(new URL('./fixtures/registry-writer.ts', import.meta.url))
const dirs: string[] = []
async function tempDir (): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'citrate-registry-'))
  dirs.push(d)
  return d
}
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }) })

function entry (id: string, over: Partial<ModelEntry> = {}): ModelEntry {
  return {
    id,
    name: `Model ${id}`,
    cid: 'QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH',
    size_bytes: 0,
    quantization: 'Q4_K_M',
    downloaded_at: '2026-01-02T03:04:05.000Z',
    path: `/m/${id}/model.gguf`,
    source: 'ipfs',
    source_url: null,
    verified: false,
    kind: 'model',
    ...over
  }
}

interface Writer { ids: string[], exited: Promise<number | null>, kill: () => void }
function startWriter (modelsDir: string, prefix: string, count: number | 'forever'): Writer {
  const child = spawn(process.execPath, [WRITER, modelsDir, prefix, String(count)], { stdio: ['ignore', 'pipe', 'pipe'] })
  const w: Writer = {
    ids: [],
    exited: new Promise(resolve => child.on('exit', code => resolve(code))),
    kill: () => { child.kill('SIGKILL') }
  }
  let buf = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    buf += s
    const lines = buf.split('\n')
    buf = lines.pop() ?? ''
    w.ids.push(...lines.filter(l => l !== ''))
  })
  child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s })
  child.on('exit', code => { if (code !== 0 && code != null) process.stderr.write(`writer ${prefix} failed: ${err}\n`) })
  return w
}

describe('model registry', () => {
  test('missing registry is empty; upsert, get, update, remove round-trip in the seed layout', async () => {
    const dir = await tempDir()
    const r = new ModelRegistry({ modelsDir: dir })
    assert.deepEqual(await r.list(), [])
    await r.upsert(entry('qwen2-0.5b'))
    await r.upsert(entry('coder-7b', { size_bytes: 4_683_073_856 }))
    await r.upsert(entry('qwen2-0.5b', { verified: true }))
    assert.deepEqual((await r.list()).map(m => m.id), ['qwen2-0.5b', 'coder-7b'])
    assert.equal((await r.get('qwen2-0.5b'))?.verified, true)
    const updated = await r.update('coder-7b', { verified: true, source: 'gateway', source_url: 'https://ipfs.io' })
    assert.equal(updated.source, 'gateway')
    await assert.rejects(r.update('nope', { verified: true }), ModelNotFoundError)
    assert.equal((await r.remove('qwen2-0.5b'))?.id, 'qwen2-0.5b')
    assert.equal(await r.remove('qwen2-0.5b'), undefined)
    const onDisk = JSON.parse(await readFile(join(dir, 'registry.json'), 'utf8'))
    assert.equal(onDisk.version, REGISTRY_VERSION)
    assert.deepEqual(Object.keys(onDisk.models[0]).sort(),
      ['cid', 'downloaded_at', 'id', 'kind', 'name', 'path', 'quantization', 'size_bytes', 'source', 'source_url', 'verified'])
  })

  test('an invalid entry is refused before anything is written', async () => {
    const dir = await tempDir()
    const r = new ModelRegistry({ modelsDir: dir })
    await assert.rejects(r.upsert(entry('x', { size_bytes: -1 })), /size_bytes/)
    await assert.rejects(r.upsert(entry('x', { source: 'ftp' as 'ipfs' })), /source/)
    await assert.rejects(r.upsert(entry('../evil')), InvalidModelIdError)
    await assert.rejects(r.update('x', { verified: true }), ModelNotFoundError)
    assert.deepEqual(await r.list(), [])
  })

  test('migrates the seed\'s 1.0 registry (entries gain kind) and keeps unknown fields', async () => {
    const dir = await tempDir()
    const { kind: _kind, ...seedEntry } = entry('seed-model')
    await writeFile(join(dir, 'registry.json'), JSON.stringify({ version: '1.0', models: [{ ...seedEntry, extra_field: 7 }] }))
    const r = new ModelRegistry({ modelsDir: dir })
    const [m] = await r.list()
    assert.equal(m?.kind, 'model')
    await r.update('seed-model', { verified: true })
    const onDisk = JSON.parse(await readFile(join(dir, 'registry.json'), 'utf8'))
    assert.equal(onDisk.version, REGISTRY_VERSION)
    assert.equal(onDisk.models[0].extra_field, 7)
    assert.equal(onDisk.models[0].kind, 'model')
  })

  test('a newer schema version is refused, never rewritten', async () => {
    const dir = await tempDir()
    const text = JSON.stringify({ version: '9.0', models: [] })
    await writeFile(join(dir, 'registry.json'), text)
    const r = new ModelRegistry({ modelsDir: dir })
    await assert.rejects(r.list(), RegistryVersionError)
    await assert.rejects(r.upsert(entry('a')), RegistryVersionError)
    assert.equal(await readFile(join(dir, 'registry.json'), 'utf8'), text)
  })

  test('corrupt or invalid registry: typed error naming the field, a backup kept, the file untouched', async () => {
    const dir = await tempDir()
    const r = new ModelRegistry({ modelsDir: dir })
    const file = join(dir, 'registry.json')
    await writeFile(file, '{"version":"1.1","models":[')
    const e1 = await r.list().catch((e: unknown) => e)
    assert.ok(e1 instanceof RegistryCorruptError)
    assert.equal(e1.code, 'REGISTRY_CORRUPT')
    assert.equal(e1.field, '(file)')
    assert.ok(e1.backupPath != null)
    assert.equal(await readFile(e1.backupPath, 'utf8'), '{"version":"1.1","models":[')

    const bad = { version: '1.1', models: [entry('ok'), { ...entry('bad'), cid: 42 }] }
    await writeFile(file, JSON.stringify(bad))
    const e2 = await r.upsert(entry('new')).catch((e: unknown) => e)
    assert.ok(e2 instanceof RegistryCorruptError)
    assert.equal(e2.field, 'models[1].cid')
    assert.match(e2.message, /models\[1\]\.cid/)
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), bad, 'never silently overwritten')
    // Asking again does not pile up copies of the same bad content.
    await r.list().catch(() => {})
    const backups = (await readdir(dir)).filter(n => n.includes('.corrupt-'))
    assert.equal(backups.length, 2)

    await writeFile(file, JSON.stringify({ version: '1.1', models: [entry('a'), entry('a')] }))
    await assert.rejects(r.list(), (e: RegistryCorruptError) => e.field === 'models[1].id')
  })

  test('ten processes adding entries at once lose none', async () => {
    const dir = await tempDir()
    const writers = Array.from({ length: 10 }, (_, i) => startWriter(dir, `p${i}`, 5))
    const codes = await Promise.all(writers.map(w => w.exited))
    assert.deepEqual(codes, Array(10).fill(0))
    const ids = (await new ModelRegistry({ modelsDir: dir }).list()).map(m => m.id).sort()
    const expected = writers.flatMap((_, i) => Array.from({ length: 5 }, (_, n) => `p${i}-${n}`)).sort()
    assert.deepEqual(ids, expected)
    assert.deepEqual((await readdir(dir)).filter(n => n.endsWith('.tmp') || n.endsWith('.lock')), [])
  })

  test('SIGKILL at any moment of a write leaves a registry that parses, with every committed entry', async () => {
    const dir = await tempDir()
    const committed: string[] = []
    for (let round = 0; round < 4; round++) {
      const ws = [startWriter(dir, `r${round}a`, 'forever'), startWriter(dir, `r${round}b`, 'forever')]
      // Wait until both are writing, then kill them at a moment of the loop chosen by chance.
      while (ws.some(w => w.ids.length === 0)) await new Promise(resolve => setTimeout(resolve, 10))
      await new Promise(resolve => setTimeout(resolve, Math.floor(Math.random() * 150)))
      for (const w of ws) w.kill()
      await Promise.all(ws.map(w => w.exited))
      committed.push(...ws.flatMap(w => w.ids))
      const text = await readFile(join(dir, 'registry.json'), 'utf8')
      const doc = JSON.parse(text) as { models: Array<{ id: string }> }
      const onDisk = new Set(doc.models.map(m => m.id))
      for (const id of committed) assert.ok(onDisk.has(id), `committed entry ${id} survived`)
    }
    // The next writer takes over a lock left by a killed holder and cleans orphan temp files.
    const r = new ModelRegistry({ modelsDir: dir, staleLockMs: 2000 })
    await r.upsert(entry('after-crash'))
    assert.ok((await r.get('after-crash')) != null)
    assert.deepEqual((await readdir(dir)).filter(n => n.endsWith('.tmp')), [])
  })
})

describe('model ids and per-model files', () => {
  test('sanitizeModelId accepts folder-safe ids and names the bad ones', () => {
    for (const ok of ['qwen2-0.5b', 'Qwen2.5-Coder-7B-Instruct.Q4_K_M', 'a', 'x+y_z']) assert.equal(sanitizeModelId(ok), ok)
    assert.equal(sanitizeModelId('  padded  '), 'padded')
    for (const bad of ['', '  ', '.', '..', '../x', 'a/b', 'a\\b', '.hidden', 'trailing.', 'CON', 'nul.txt', 'x'.repeat(129), 'sp ace', 'ümlaut']) {
      assert.throws(() => sanitizeModelId(bad), (e: unknown) => e instanceof InvalidModelIdError && e.code === 'INVALID_MODEL_ID' && e.id === bad && e.message.includes(JSON.stringify(bad)), bad)
    }
    assert.equal(modelIdFromName('My Model (v2).gguf'), 'My-Model-v2-.gguf')
    assert.equal(modelIdFromName('...'), 'model')
  })

  test('writeModelFiles writes metadata.json and config.json atomically into the model folder\'s .citrate/', async () => {
    const dir = await tempDir()
    const e = entry('m1')
    const { metadataPath, configPath } = await writeModelFiles(dir, e, { metadata: { license: 'apache-2.0' }, config: { context_length: 4096 } })
    assert.equal(metadataPath, join(dir, 'm1', '.citrate', 'metadata.json'))
    assert.equal(configPath, join(dir, 'm1', '.citrate', 'config.json'))
    assert.deepEqual(JSON.parse(await readFile(metadataPath, 'utf8')), { ...e, license: 'apache-2.0' })
    assert.deepEqual(JSON.parse(await readFile(configPath ?? '', 'utf8')), { context_length: 4096 })
    await assert.rejects(writeModelFiles(dir, entry('../up')), InvalidModelIdError)
  })
})
