/**
 * A crash at every step of the commit into place (models/commit.ts), scripted
 * rather than by luck: a pull in a child process SIGKILLs itself right after
 * a named step, and the next pull must finish the job from what is on disk —
 * exact bytes, one registry entry, no work folder or half-made copy left, and
 * nothing fetched again. Run with models_path on the same filesystem as the
 * work folder (renames) and on another one (/dev/shm: copy beside, rename).
 * A step that fails in-process (ENOSPC while copying) is undone the same way.
 * Both a file (models/<id>/model.bin) and a folder model (its files directly
 * in models/<id>/) are killed at every step; our bookkeeping ends up in
 * models/<id>/.citrate/ and nowhere beside the content.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { COMMIT_STEPS, type CommitStep } from '../src/models/commit.ts'
import { ModelRegistry, pull } from '../src/index.ts'
import { ipfs, makeTestHome, type TestHome } from './helpers/kubo.ts'
import { treeOf } from './helpers/content.ts'
import { contentTreeOf } from './helpers/layout.ts'
import { writeHfFolder } from './fixtures/model-files.ts'

const indexTs = fileURLToPath(new URL('../src/index.ts', import.meta.url))
const SIZE = 3 * 1024 * 1024 + 12_345

function bytesOf (size: number, seed: string): Buffer {
  const out = Buffer.alloc(size)
  for (let i = 0, n = 0; i < size; n++) i += createHash('sha256').update(`${seed}:${n}`).digest().copy(out, i)
  return out
}

/** Pulls in a child process that SIGKILLs itself right after commit step `killAt`; resolves with the signal it died of. */
async function pullKilledAt (home: string, cid: string, id: string, gateway: string, killAt: CommitStep): Promise<NodeJS.Signals | null> {
  const code = `
    const { loadConfig, pull } = await import(${JSON.stringify(indexTs)})
    const config = await loadConfig({ home: ${JSON.stringify(home)} })
    await pull({ cid: ${JSON.stringify(cid)}, config, name: ${JSON.stringify(id)}, sources: [${JSON.stringify(gateway)}], rangeBytes: 1048576,
      commitHook: (step) => { if (step === ${JSON.stringify(killAt)}) process.kill(process.pid, 'SIGKILL') } })
  `
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, IPFS_TELEMETRY: 'off' } })
  return await new Promise(resolve => child.once('exit', (_code, signal) => { resolve(signal) }))
}

async function exists (path: string): Promise<boolean> {
  return await stat(path).then(() => true, () => false)
}

let gateway: string
let source: TestHome
let scratchDir: string
before(async () => {
  source = await makeTestHome('auto_pin = false')
  gateway = (await source.manager.start()).status.gatewayUrl
  scratchDir = await mkdtemp(join(tmpdir(), 'citrate-commit-src-'))
})
after(async () => {
  await source?.cleanup()
  if (scratchDir != null) await rm(scratchDir, { recursive: true, force: true })
})

const layouts = [
  { label: 'same filesystem', otherFs: false },
  { label: 'models_path on another filesystem', otherFs: true }
]

for (const { label, otherFs } of layouts) {
  describe(`commit crash-safety (${label})`, () => {
    let h: TestHome
    let shm: string | undefined
    before(async () => {
      shm = otherFs ? await mkdtemp('/dev/shm/citrate-commit-') : undefined
      h = await makeTestHome(['auto_pin = false', ...(shm != null ? [`models_path = ${JSON.stringify(join(shm, 'models'))}`] : [])].join('\n'))
    })
    after(async () => {
      await h?.cleanup()
      if (shm != null) await rm(shm, { recursive: true, force: true })
    })

    /** After the restart: the model is complete and registered once, and nothing of the commit is left over. */
    async function assertCommitted (cid: string, id: string, data: Buffer): Promise<void> {
      const entries = (await new ModelRegistry({ modelsDir: h.config.paths.models }).list()).filter(e => e.id === id)
      assert.equal(entries.length, 1, 'one registry entry')
      assert.equal(entries[0]?.cid, cid)
      assert.ok((await readFile(entries[0]?.path ?? '')).equals(data), 'exact bytes in place')
      assert.equal(await exists(join(h.config.paths.pulls, cid)), false, 'the work folder is gone')
      const leftovers = (await readdir(dirname(join(h.config.paths.models, id)))).filter(n => n.includes('.incoming-'))
      assert.deepEqual(leftovers, [], 'no half-made copy beside the target')
    }

    /** Our bookkeeping is in .citrate/ and nowhere else in the model folder. */
    async function assertBookkeeping (dir: string, content: string[]): Promise<void> {
      assert.deepEqual((await readdir(dir)).sort(), ['.citrate', ...content].sort(), 'the content and .citrate/, nothing beside')
      assert.deepEqual((await readdir(join(dir, '.citrate'))).sort(), ['config.json', 'dag-index.car', 'metadata.json'])
    }

    for (const step of COMMIT_STEPS) {
      if (step === 'copied' && !otherFs) continue // a rename needs no copy
      test(`a folder model killed right after "${step}": the next pull lands it intact in models/<id>/ and fetches nothing`, async () => {
        const src = join(scratchDir, `${otherFs ? 'shm' : 'fs'}-${step}`)
        const made = await writeHfFolder(src)
        await writeFile(join(src, 'weights.bin'), bytesOf(1024 * 1024 + 7, `${label}:${step}:folder`))
        const cid = (await ipfs(source.config.paths.ipfsRepo, ['add', '-r', '-Q', '--pin=false', src])).toString().trim()
        const id = `crash-folder-${step}`
        assert.equal(await pullKilledAt(h.home, cid, id, gateway, step), 'SIGKILL', `the child died at "${step}"`)
        const res = await pull({ cid, config: h.config, name: id, sources: [gateway], rangeBytes: 1048576 })
        assert.equal(res.fetchedBytes, 0, 'nothing fetched again')
        const dir = join(h.config.paths.models, id)
        assert.equal(res.path, dir)
        assert.deepEqual(await contentTreeOf(dir), await treeOf(src), 'the folder\'s files exactly, directly in models/<id>/')
        await assertBookkeeping(dir, [...made.files, 'weights.bin'])
        assert.equal(await exists(join(h.config.paths.pulls, cid)), false, 'the work folder is gone')
        assert.deepEqual((await readdir(h.config.paths.models)).filter(n => n.includes('.incoming-')), [], 'no half-made copy beside the target')
      })

      test(`killed right after "${step}": the next pull finishes the commit and fetches nothing`, async (t) => {
        const data = bytesOf(SIZE, `${label}:${step}`)
        const cid = (await ipfs(source.config.paths.ipfsRepo, ['add', '-Q', '--pin=false', '--chunker=size-262144'], data)).toString().trim()
        const id = `crash-${step}`
        assert.equal(await pullKilledAt(h.home, cid, id, gateway, step), 'SIGKILL', `the child died at "${step}"`)
        const res = await pull({ cid, config: h.config, name: id, sources: [gateway], rangeBytes: 1048576 })
        t.diagnostic(`restart: alreadyPresent=${String(res.alreadyPresent)}, fetched ${res.fetchedBytes} B, resumed ${res.resumedBytes} B`)
        assert.equal(res.fetchedBytes, 0, 'nothing fetched again')
        await assertCommitted(cid, id, data)
        await assertBookkeeping(join(h.config.paths.models, id), ['model.bin'])
      })
    }

    test('a step that fails in this process (ENOSPC) is undone: the pull fails with DISK_FULL and the next one fetches nothing', async () => {
      const data = bytesOf(SIZE, `${label}:enospc`)
      const cid = (await ipfs(source.config.paths.ipfsRepo, ['add', '-Q', '--pin=false', '--chunker=size-262144'], data)).toString().trim()
      const failAt: CommitStep = otherFs ? 'copied' : 'content-moved'
      const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
      await assert.rejects(
        pull({ cid, config: h.config, name: 'enospc', sources: [gateway], rangeBytes: 1048576, commitHook: (step) => { if (step === failAt) throw enospc } }),
        (err: { code?: string }) => err.code === 'DISK_FULL'
      )
      assert.equal(await exists(join(h.config.paths.models, 'enospc')), false, 'nothing half-made in place')
      const res = await pull({ cid, config: h.config, name: 'enospc', sources: [gateway], rangeBytes: 1048576 })
      assert.equal(res.fetchedBytes, 0, 'nothing fetched again')
      assert.equal(res.resumedBytes, SIZE, 'every byte re-proved from disk')
      await assertCommitted(cid, 'enospc', data)
    })
  })
}
