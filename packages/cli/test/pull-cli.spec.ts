/**
 * `citrate-ipfs pull` end to end against real kubo: --json gives one event
 * per line and a final result; errors are one line with a code; the default
 * output names the path. Public gateways are replaced by none (loopback only).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ipfs, makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'
import { runCli, type Run } from './helpers/cli.ts'

/** Public gateways replaced by none: loopback only. */
const cli = (h: TestHome, args: string[]): Promise<Run> => runCli(h, args, { CITRATE_IPFS_PUBLIC_GATEWAYS: '' })

let h: TestHome
before(async () => {
  h = await makeTestHome('auto_pin = false')
  await h.manager.start()
})
after(async () => { await h?.cleanup() })

describe('citrate-ipfs pull', () => {
  test('--json: NDJSON progress events with the seed fields, then the result', async () => {
    const data = Buffer.alloc(600 * 1024, 3)
    const cid = (await ipfs(h.config.paths.ipfsRepo, ['add', '-Q', '--pin=false'], data)).toString().trim()
    const r = await cli(h, ['pull', cid, '--name', 'cli-model', '--filename', 'model.gguf', '--json'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    const lines = r.stdout.trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>)
    const progress = lines.filter(l => l.type === 'citrate:pull:progress').map(l => l.progress as Record<string, unknown>)
    assert.ok(progress.length >= 3)
    for (const key of ['cid', 'total_bytes', 'downloaded_bytes', 'progress_percent', 'speed_mbps', 'eta_seconds', 'status', 'source']) {
      assert.ok(key in (progress[0] ?? {}), `progress has ${key}`)
    }
    assert.equal(progress.at(-1)?.status, 'Complete')
    const result = lines.at(-1) as { pulled: boolean, path: string, entry: { verified: boolean, id: string } }
    assert.equal(result.pulled, true)
    assert.equal(result.entry.verified, true)
    assert.equal(result.entry.id, 'cli-model')
    assert.ok((await readFile(result.path)).equals(data))
  })

  test('human output names the path; a bad CID is a one-line error with exit code 2 (fix the command line)', async () => {
    const cid = (await ipfs(h.config.paths.ipfsRepo, ['add', '-Q', '--pin=false'], Buffer.from('hello'))).toString().trim()
    const ok = await cli(h, ['pull', cid, '--kind', 'dataset', '--name', 'ds', '--no-fsync'])
    assert.equal(ok.code, 0, ok.stderr)
    assert.match(ok.stdout, /every block verified/)
    assert.match(ok.stdout, /training\/datasets\/ds/)
    const bad = await cli(h, ['pull', 'bafy-not-a-cid'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /^citrate-ipfs: error: .*not a valid CID/)
    const badJson = await cli(h, ['pull', 'bafy-not-a-cid', '--json'])
    assert.equal((JSON.parse(badJson.stdout.trim()) as { error: { code: string } }).error.code, 'INVALID_CID')
    const badKind = await cli(h, ['pull', cid, '--kind', 'weights'])
    assert.equal(badKind.code, 2)
  })

  test('a content path pulls one file of a folder under its own name; <cid>/../x and ipfs://junk exit 2 in plain words', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'citrate-cli-paths-'))
    try {
      await mkdir(join(dir, 'quants'))
      const file = Buffer.alloc(50_000, 9)
      await writeFile(join(dir, 'quants', 'cli-Q4_K_M.gguf'), file)
      await writeFile(join(dir, 'other.bin'), Buffer.alloc(400_000, 1))
      const folder = (await ipfs(h.config.paths.ipfsRepo, ['add', '-r', '-Q', '--pin=false', dir])).toString().trim()
      const ok = await cli(h, ['pull', `/ipfs/${folder}/quants/cli-Q4_K_M.gguf`])
      assert.equal(ok.code, 0, ok.stderr)
      assert.match(ok.stdout, /as cli-Q4_K_M\b/)
      assert.match(ok.stdout, new RegExp(`from the path ${folder}/quants/cli-Q4_K_M\\.gguf`))
      assert.ok((await readFile(join(h.config.paths.models, 'cli-Q4_K_M', 'cli-Q4_K_M.gguf'))).equals(file))
      const dots = await cli(h, ['pull', `${folder}/../x`])
      assert.equal(dots.code, 2)
      assert.match(dots.stderr, /^citrate-ipfs: error: .*"\.\." segments are not allowed/)
      const junk = await cli(h, ['pull', 'ipfs://nonsense'])
      assert.equal(junk.code, 2)
      assert.match(junk.stderr, /What works: a CID/)
      assert.doesNotMatch(junk.stderr, /multibase|decoder must be provided/)
      const missing = await cli(h, ['pull', `${folder}/quants/nope.gguf`])
      assert.equal(missing.code, 1)
      assert.match(missing.stderr, /has no "nope\.gguf"/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  test('a folder with symlinks: the inside link is written, the outside one is a warning naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'citrate-cli-links-'))
    try {
      await mkdir(join(dir, 'blobs'))
      await writeFile(join(dir, 'blobs', 'abc'), '{"model_type":"llama"}')
      await symlink('blobs/abc', join(dir, 'config.json'))
      await symlink('/etc/passwd', join(dir, 'evil'))
      const folder = (await ipfs(h.config.paths.ipfsRepo, ['add', '-r', '-Q', '--pin=false', dir])).toString().trim()
      const r = await cli(h, ['pull', folder, '--name', 'cli-links'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stderr, /citrate-ipfs: warning: symlink evil -> \/etc\/passwd not written: it points to an absolute path, outside the folder/)
      assert.match(r.stdout, /not written: symlink evil -> \/etc\/passwd/)
      const path = (/path: (.*)/.exec(r.stdout)?.[1] ?? '').trim()
      assert.equal(await readlink(join(path, 'config.json')), 'blobs/abc')
      const json = await cli(h, ['pull', folder, '--name', 'cli-links-json', '--json'])
      const lines = json.stdout.trim().split('\n').map(l => JSON.parse(l) as { type?: string, path?: string, skippedSymlinks?: Array<{ path: string }> })
      assert.deepEqual(lines.filter(l => l.type === 'citrate:pull:symlink-skipped').map(l => l.path), ['evil'])
      assert.deepEqual(lines.at(-1)?.skippedSymlinks?.map(l => l.path), ['evil'])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  test('--verbose explains the pull on stderr (sources, speed) and keeps --json stdout pure', async () => {
    // Two contents: a second pull of the same CID would reuse the first's verified bytes and fetch nothing.
    const add = async (fill: number): Promise<string> => (await ipfs(h.config.paths.ipfsRepo, ['add', '-Q', '--pin=false'], Buffer.alloc(300 * 1024, fill))).toString().trim()
    const quiet = await cli(h, ['pull', await add(7), '--name', 'quiet-model', '--json'])
    assert.equal(quiet.code, 0, quiet.stderr)
    assert.doesNotMatch(quiet.stderr, /citrate:/, 'core is silent by default')
    const loud = await cli(h, ['pull', await add(8), '--name', 'verbose-model', '--json', '--verbose'])
    assert.equal(loud.code, 0, loud.stderr)
    for (const line of loud.stdout.trim().split('\n')) JSON.parse(line)
    assert.match(loud.stderr, /citrate:fetch .*sources .*daemon/)
    assert.match(loud.stderr, /citrate:pull .*bytes in .*MB\/s\) from .*daemon/)
  })

  test('--limit-rate: the cap over all sources; per-source progress in --json events and each source\'s share in the result; a bad rate exits 2', async () => {
    const data = Buffer.alloc(2 * 1024 * 1024, 9)
    const cid = (await ipfs(h.config.paths.ipfsRepo, ['add', '-Q', '--pin=false', '--raw-leaves'], data)).toString().trim()
    const r = await cli(h, ['pull', cid, '--name', 'capped', '--limit-rate', '8', '--json'])
    assert.equal(r.code, 0, r.stderr + r.stdout)
    const lines = r.stdout.trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>)
    const sources = lines.filter(l => l.type === 'citrate:pull:progress').map(l => (l.progress as { sources?: Array<{ name: string, bytes: number, state: string }> }).sources).filter(s => s != null)
    assert.ok(sources.length > 0, '--json progress events carry each source')
    assert.ok(sources.at(-1)?.some(s => s.name.startsWith('daemon') && s.bytes > 0 && s.state === 'active'), JSON.stringify(sources.at(-1)))
    const result = lines.at(-1) as { fetchedBytes: number, shares: Array<{ name: string, bytes: number, share: number, dropped: boolean }> }
    const daemon = result.shares.find(s => s.name.startsWith('daemon'))
    assert.ok(daemon != null && daemon.share === 1 && daemon.bytes === result.fetchedBytes && !daemon.dropped, JSON.stringify(result.shares))

    const other = (await ipfs(h.config.paths.ipfsRepo, ['add', '-Q', '--pin=false', '--raw-leaves'], Buffer.alloc(2 * 1024 * 1024, 10))).toString().trim()
    const human = await cli(h, ['pull', other, '--name', 'capped-human', '--limit-rate', '0'])
    assert.equal(human.code, 0, human.stderr)
    assert.match(human.stdout, /from: daemon \S+ 100% \([\d.]+ [KM]i?B, [\d.]+ MB\/s\)/)
    // The same CID under a third id: the verified bytes on this machine are reused, and the output says so.
    const again = await cli(h, ['pull', other, '--name', 'capped-again'])
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /from: the verified copy of capped-human on this machine \(nothing fetched\)/)
    for (const bad of ['-3', 'fast', '']) {
      const b = await cli(h, ['pull', cid, '--name', 'never', '--limit-rate', bad])
      assert.equal(b.code, 2, `--limit-rate ${JSON.stringify(bad)}: ${b.stderr}`)
      assert.match(b.stderr, /--limit-rate must be a number of MB\/s/)
    }
  })
})
