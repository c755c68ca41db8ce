/**
 * `add`, `models`, `pin`/`unpin`/`pins`/`gc` end to end through the built
 * binary, against the real kubo of a test home.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, open, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ipfs, makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'
import { runCli, type Run } from './helpers/cli.ts'
import { writeChachaFile } from '../../core/test/helpers/content.ts'

const cli = (h: TestHome, args: string[]): Promise<Run> => runCli(h, args)
const lastJson = (r: Run): Record<string, any> => JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') // eslint-disable-line @typescript-eslint/no-explicit-any
const jsonLines = (r: Run): Array<Record<string, any>> => r.stdout.trim().split('\n').filter(l => l !== '').map(l => JSON.parse(l)) // eslint-disable-line @typescript-eslint/no-explicit-any

async function flipByte (path: string, offset: number): Promise<void> {
  const fh = await open(path, 'r+')
  const b = Buffer.alloc(1)
  await fh.read(b, 0, 1, offset)
  b[0] = (b[0] ?? 0) ^ 0x80
  await fh.write(b, 0, 1, offset)
  await fh.close()
}

describe('citrate-ipfs add / models / pins', () => {
  let h: TestHome
  let content: string
  before(async () => {
    h = await makeTestHome()
    content = join(h.home, 'content')
    await mkdir(join(content, 'dataset', 'part'), { recursive: true })
    await writeChachaFile(join(content, 'model.gguf'), 'cli-model', 2_000_000)
    await writeChachaFile(join(content, 'dataset', 'part', 'a.jsonl'), 'cli-ds', 300_000)
    await writeChachaFile(join(content, 'dataset', 'b.jsonl'), 'cli-ds-b', 10)
  })
  after(async () => { await h.cleanup() })

  test('without a daemon: --only-hash matches kubo, --car is importable and registers the model', async () => {
    const hashed = await cli(h, ['add', join(content, 'model.gguf'), '--only-hash', '--json'])
    assert.equal(hashed.code, 0, hashed.stderr)
    const r = lastJson(hashed)
    assert.equal(r.stored, 'none')
    assert.equal(r.id, null)

    const noDaemon = await cli(h, ['add', join(content, 'model.gguf'), '--json'])
    assert.equal(noDaemon.code, 4)
    assert.equal(lastJson(noDaemon).error.code, 'DAEMON_NOT_RUNNING')
    assert.equal(lastJson(noDaemon).error.hint, 'start it with `citrate-ipfs daemon start`')

    const car = join(h.home, 'ds.car')
    const added = await cli(h, ['add', join(content, 'dataset'), '--kind', 'dataset', '--cid-version', '1', '--car', car, '--json'])
    assert.equal(added.code, 0, added.stderr)
    const a = lastJson(added)
    assert.equal(a.stored, 'car')
    assert.equal(a.id, 'dataset')
    const listed = lastJson(await cli(h, ['models', '--json']))
    assert.deepEqual(listed.models.map((m: { id: string, kind: string, source: string }) => [m.id, m.kind, m.source]), [['dataset', 'dataset', 'local']])
    // The CAR goes into kubo as is, under the root we announced.
    await h.manager.start()
    const imported = (await ipfs(h.config.paths.ipfsRepo, ['dag', 'import', '--pin-roots', car])).toString()
    assert.match(imported, new RegExp(a.cid))
    const kuboCid = (await ipfs(h.config.paths.ipfsRepo, ['add', '-n', '-Q', '-r', '--cid-version=1', join(content, 'dataset')])).toString().trim()
    assert.equal(a.cid, kuboCid)
    assert.equal(r.cid, (await ipfs(h.config.paths.ipfsRepo, ['add', '-n', '-Q', join(content, 'model.gguf')])).toString().trim())
  })

  test('with the daemon: add shows progress, pins under the id, registers; models show/verify', async () => {
    const added = await cli(h, ['add', join(content, 'model.gguf'), '--name', 'qwen-test', '--profile', 'unixfs-v1-2025', '--json'])
    assert.equal(added.code, 0, added.stderr)
    const lines = jsonLines(added)
    assert.ok(lines.some(l => l.type === 'citrate:publish:bytes'), 'progress events')
    const r = lines.at(-1) ?? {}
    assert.equal(r.stored, 'kubo')
    const kuboCid = (await ipfs(h.config.paths.ipfsRepo, ['add', '-n', '-Q', '--cid-version=1', '--chunker=size-1048576', '--max-file-links=1024', join(content, 'model.gguf')])).toString().trim()
    assert.equal(r.cid, kuboCid)

    const shown = lastJson(await cli(h, ['models', 'show', 'qwen-test', '--json']))
    assert.equal(shown.model.cid, r.cid)
    assert.equal(shown.model.size_bytes, 2_000_000)
    assert.equal(shown.metadata.import_shape.chunkSize, 1_048_576)

    const pins = jsonLines(await cli(h, ['pins', '--json']))
    const mine = pins.find(p => p.cid === r.cid)
    assert.equal(mine?.name, 'qwen-test')
    assert.deepEqual(mine?.models, ['qwen-test'])

    const ok = await cli(h, ['models', 'verify', '--all', '--json'])
    assert.equal(ok.code, 0, ok.stdout + ok.stderr)
    assert.deepEqual(lastJson(ok).results.map((x: { ok: boolean }) => x.ok), [true, true])
  })

  test('models verify catches a flipped byte, names the offset, marks the model unverified', async () => {
    const file = join(content, 'model.gguf')
    await flipByte(file, 1_500_000)
    const bad = await cli(h, ['models', 'verify', 'qwen-test', '--json'])
    assert.equal(bad.code, 1)
    const res = jsonLines(bad)[0]?.results[0]
    assert.equal(res.ok, false)
    assert.equal(res.error.code, 'CONTENT_CORRUPT')
    assert.equal(res.error.offset, 1_048_576)
    assert.equal(lastJson(await cli(h, ['models', 'show', 'qwen-test', '--json'])).model.verified, false)
    const human = await cli(h, ['models', 'verify', 'qwen-test'])
    assert.match(human.stderr, /qwen-test: FAILED: .*offset 1048576/)
    await flipByte(file, 1_500_000)
    assert.equal((await cli(h, ['models', 'verify', 'qwen-test'])).code, 0)
    assert.equal(lastJson(await cli(h, ['models', 'show', 'qwen-test', '--json'])).model.verified, true)
  })

  test('unpin refuses content a model relies on without --force; models rm unpins; pin and gc', async () => {
    const cid = lastJson(await cli(h, ['models', 'show', 'qwen-test', '--json'])).model.cid as string
    const refused = await cli(h, ['unpin', cid, '--json'])
    assert.equal(refused.code, 1)
    assert.equal(lastJson(refused).error.code, 'PIN_IN_USE')
    assert.doesNotMatch(lastJson(refused).error.message, /--force/)
    assert.match(lastJson(refused).error.hint, /pass --force to unpin anyway, or remove the model first \(`citrate-ipfs models rm qwen-test`\)/)

    const rm = await cli(h, ['models', 'rm', 'qwen-test', '--json'])
    assert.equal(rm.code, 0, rm.stderr)
    assert.equal(lastJson(rm).unpinned, true)
    assert.equal((await cli(h, ['models', 'show', 'qwen-test'])).code, 1)
    assert.ok(!jsonLines(await cli(h, ['pins', '--json'])).some(p => p.cid === cid))

    const pinned = await cli(h, ['pin', cid, '--name', 'again', '--json'])
    assert.equal(pinned.code, 0, pinned.stderr)
    const plines = jsonLines(pinned)
    assert.ok(plines.some(l => l.type === 'citrate:pin:progress' && l.blocks > 0))
    assert.equal(plines.at(-1)?.alreadyPinned, false)
    assert.equal((await cli(h, ['unpin', cid])).code, 0)

    const gc = await cli(h, ['gc', '--json'])
    assert.equal(gc.code, 0, gc.stderr)
    assert.ok(lastJson(gc).blocksFreed >= 3)
    assert.equal((await cli(h, ['pin', 'not-a-cid', '--json'])).code, 2)
    assert.match(await readFile(join(h.config.paths.models, 'registry.json'), 'utf8'), /"dataset"/)
  })
})
