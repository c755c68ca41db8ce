/**
 * Folders with UnixFS symlinks, as `ipfs add -r` of a Hugging Face cache
 * stores them, pulled from real kubo: a link whose target stays inside the
 * folder is written as the same relative link (or, in copy mode, as a copy
 * of its target), one pointing outside is not written and is reported by
 * name, and verify-at-rest accepts both results — and still catches a change.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pull, verifyRegisteredModel, type PullEvent } from '../src/index.ts'
import { classifySymlink } from '../src/ipld/symlink.ts'
import { chachaBytes, flipByte } from './helpers/content.ts'
import { ipfs, makeTestHome, type TestHome } from './helpers/kubo.ts'

let h: TestHome
let gateway: string
let scratch: string
let cache: string
const config = Buffer.from('{"architectures":["LlamaForCausalLM"],"model_type":"llama"}\n')
const weights = chachaBytes('hf-weights', 300_000)

/** Inside links (written), outside links (reported), and one inside link to nothing. */
const INSIDE: Record<string, string> = {
  'snapshots/rev1/config.json': '../../blobs/aaa',
  'snapshots/rev1/model.safetensors': '../../blobs/bbb',
  'snapshots/rev1/sub/tokenizer.json': '../../../blobs/aaa',
  latest: 'snapshots/rev1',
  'snapshots/rev1/self.json': './config.json'
}
const OUTSIDE: Record<string, RegExp> = {
  'etc-passwd': /absolute path/,
  escape: /points outside the folder/,
  'snapshots/rev1/sneaky': /goes back up/
}

before(async () => {
  h = await makeTestHome('auto_pin = false')
  const { status } = await h.manager.start()
  gateway = status.gatewayUrl as string
  scratch = await mkdtemp(join(tmpdir(), 'citrate-symlinks-'))
  const dir = join(scratch, 'models--org--tiny')
  await mkdir(join(dir, 'blobs'), { recursive: true })
  await mkdir(join(dir, 'snapshots', 'rev1', 'sub'), { recursive: true })
  await mkdir(join(dir, 'refs'))
  await writeFile(join(dir, 'blobs', 'aaa'), config)
  await writeFile(join(dir, 'blobs', 'bbb'), weights)
  await writeFile(join(dir, 'refs', 'main'), 'rev1')
  for (const [p, t] of Object.entries(INSIDE)) await symlink(t, join(dir, p))
  await symlink('/etc/passwd', join(dir, 'etc-passwd'))
  await symlink('../../outside.txt', join(dir, 'escape'))
  await symlink('../rev1/../../../x', join(dir, 'snapshots', 'rev1', 'sneaky'))
  cache = (await ipfs(h.config.paths.ipfsRepo, ['add', '-r', '-Q', '--pin=false', '--cid-version=1', dir])).toString().trim()
})
after(async () => {
  await h?.cleanup()
  await rm(scratch, { recursive: true, force: true })
})

const pullIt = async (cid: string, extra: Partial<Parameters<typeof pull>[0]> = {}): ReturnType<typeof pull> =>
  await pull({ cid, config: h.config, sources: [gateway], publicGateways: [], ...extra })

describe('classifySymlink', () => {
  test('inside, outside and unsafe targets', () => {
    assert.deepEqual(classifySymlink('a/b/c', '../../x/y'), { inside: true, resolved: ['x', 'y'] })
    assert.deepEqual(classifySymlink('a/b', './c//d/'), { inside: true, resolved: ['a', 'c', 'd'] })
    assert.deepEqual(classifySymlink('a/b', '..'), { inside: true, resolved: [] })
    const refused: Array<[string, string, RegExp]> = [
      ['a', '/etc/passwd', /absolute/],
      ['a', '..', /outside/],
      ['a/b', '../../x', /outside/],
      ['a/b', 'c/../../..', /goes back up/],
      ['a', 'C:\\Windows', /Windows path/],
      ['a', 'x\\y', /Windows path/],
      ['a', '', /empty/],
      ['a', 'x\u0000y', /control character/],
      ['a', 'aux', /not portable/]
    ]
    for (const [rel, target, reason] of refused) {
      const v = classifySymlink(rel, target)
      assert.equal(v.inside, false, `${rel} -> ${target}`)
      if (!v.inside) assert.match(v.reason, reason, `${rel} -> ${target}`)
    }
  })
})

describe('pull a folder with symlinks', () => {
  test('inside links are the same relative links; outside ones are not written and are reported by name; verify accepts it', async () => {
    const events: PullEvent[] = []
    const r = await pullIt(cache, { name: 'hf-links', onProgress: (e) => { events.push(e) } })
    assert.equal(r.type, 'directory')
    for (const [p, t] of Object.entries(INSIDE)) {
      assert.ok((await lstat(join(r.path, p))).isSymbolicLink(), p)
      assert.equal(await readlink(join(r.path, p)), t, p)
    }
    // They work: reading through them gives the blobs' bytes.
    assert.ok((await readFile(join(r.path, 'snapshots', 'rev1', 'model.safetensors'))).equals(weights))
    assert.ok((await readFile(join(r.path, 'latest', 'sub', 'tokenizer.json'))).equals(config))
    assert.ok((await readFile(join(r.path, 'snapshots', 'rev1', 'self.json'))).equals(config))
    for (const p of Object.keys(OUTSIDE)) assert.equal(await lstat(join(r.path, p)).catch(() => undefined), undefined, `${p} is not written`)
    assert.deepEqual(r.skippedSymlinks.map(l => l.path).sort(), Object.keys(OUTSIDE).sort())
    for (const l of r.skippedSymlinks) assert.match(l.reason, OUTSIDE[l.path] as RegExp, l.path)
    assert.deepEqual(r.skippedSymlinks.find(l => l.path === 'etc-passwd')?.target, '/etc/passwd')
    const reported = events.filter(e => e.type === 'citrate:pull:symlink-skipped').map(e => e.type === 'citrate:pull:symlink-skipped' ? e.path : '').sort()
    assert.deepEqual(reported, Object.keys(OUTSIDE).sort())
    await verifyRegisteredModel(h.config, r.entry)

    // verify still catches changes: a link retargeted, and something written where an outside link was left out.
    const link = join(r.path, 'snapshots', 'rev1', 'config.json')
    await rm(link)
    await symlink('../../blobs/bbb', link)
    await assert.rejects(verifyRegisteredModel(h.config, r.entry), { code: 'CONTENT_CORRUPT' })
    await rm(link)
    await symlink('../../blobs/aaa', link)
    await verifyRegisteredModel(h.config, r.entry)
    await writeFile(join(r.path, 'etc-passwd'), 'root:x:0:0\n')
    await assert.rejects(verifyRegisteredModel(h.config, r.entry), (e: Error & { code?: string }) => e.code === 'CONTENT_CORRUPT' && /points outside the folder/.test(e.message))
  })

  test('copy mode (where links cannot be made): each inside link is a copy of its target, verified against its CID', async () => {
    const r = await pullIt(cache, { name: 'hf-copies', symlinks: 'copy' })
    const file = async (p: string): Promise<Buffer> => {
      const st = await lstat(join(r.path, p))
      assert.ok(st.isFile(), `${p} is a regular file`)
      return await readFile(join(r.path, p))
    }
    assert.ok((await file('snapshots/rev1/config.json')).equals(config))
    assert.ok((await file('snapshots/rev1/model.safetensors')).equals(weights))
    assert.ok((await file('snapshots/rev1/self.json')).equals(config))
    assert.ok((await lstat(join(r.path, 'latest'))).isDirectory())
    assert.ok((await file('latest/sub/tokenizer.json')).equals(config))
    assert.ok((await file('latest/model.safetensors')).equals(weights))
    assert.deepEqual(r.skippedSymlinks.map(l => l.path).sort(), Object.keys(OUTSIDE).sort())
    await verifyRegisteredModel(h.config, r.entry)
    // A copy is proved like the file it stands for: one changed byte is found.
    await flipByte(join(r.path, 'latest', 'model.safetensors'), 1000)
    await assert.rejects(verifyRegisteredModel(h.config, r.entry), { code: 'CONTENT_CORRUPT' })
  })

  test('a Hugging Face snapshot folder alone: every link leads out of it, so each is reported and the rest pulls', async () => {
    const r = await pullIt(`${cache}/snapshots/rev1`, { name: 'hf-snapshot' })
    assert.equal(r.type, 'directory')
    assert.deepEqual(r.skippedSymlinks.map(l => l.path).sort(), ['config.json', 'model.safetensors', 'sneaky', 'sub/tokenizer.json'])
    // self.json -> ./config.json stays inside (a link to a link that was not written: it dangles, as `ipfs get` would leave it).
    assert.equal(await readlink(join(r.path, 'self.json')), './config.json')
    await verifyRegisteredModel(h.config, r.entry)
  })

  test('models_path on another filesystem (/dev/shm): the links stay relative through the copy into place', async () => {
    const shm = await mkdtemp('/dev/shm/citrate-links-')
    const other = await makeTestHome(['auto_pin = false', `models_path = ${JSON.stringify(join(shm, 'models'))}`].join('\n'))
    try {
      const r = await pull({ cid: cache, config: other.config, sources: [gateway], publicGateways: [], name: 'hf-shm' })
      assert.ok(r.path.startsWith(shm), r.path)
      for (const [p, t] of Object.entries(INSIDE)) assert.equal(await readlink(join(r.path, p)), t, p)
      assert.ok((await readFile(join(r.path, 'latest', 'config.json'))).equals(config))
      await verifyRegisteredModel(other.config, r.entry)
    } finally {
      await other.cleanup()
      await rm(shm, { recursive: true, force: true })
    }
  })

  test('a path naming a symlink is refused in plain words', async () => {
    await assert.rejects(pullIt(`${cache}/latest`), (e: Error & { code?: string }) => e.code === 'UNSUPPORTED' && /is a symlink \(to "snapshots\/rev1"\)/.test(e.message))
    await assert.rejects(pullIt(`${cache}/latest/config.json`), (e: Error & { code?: string }) => e.code === 'UNSUPPORTED' && /latest is a symlink/.test(e.message))
  })
})
