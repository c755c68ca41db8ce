/**
 * The packaged single executable (`npm run package`), as the Citrate app ships it: copied alone
 * into an empty folder, run with a PATH that holds no `node`, with kubo beside it under its
 * sidecar name (`ipfs-<triple>`). It reports its version and status, starts and stops real kubo,
 * pulls from a loopback gateway with every block verified, and serves the UI from its embedded
 * assets to a real Chromium whose commands work.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { sidecarFileName } from '../../core/src/index.ts'
import { addBytes, makeTestHome, testKuboBinary, type TestHome } from '../../core/test/helpers/kubo.ts'
import { chachaBytes } from '../../core/test/helpers/content.ts'
import { launchChromium, screenshot, signIn } from '../../ui/test/helpers/browser.ts'
import { packageSidecar } from '../../../tools/package/package.mjs'

let dir: string
let exe: string
let emptyPath: string
let h: TestHome
let other: TestHome

interface Run { code: number, stdout: string, stderr: string }
function run (args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise(resolve => {
    // Nothing from the test runner's environment: no node on PATH, no NODE_OPTIONS, only the home.
    execFile(exe, args, { cwd: dir, env: { PATH: emptyPath, HOME: dir, CITRATE_HOME: h.home, IPFS_TELEMETRY: 'off', CITRATE_IPFS_PUBLIC_GATEWAYS: '', ...env }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err == null ? 0 : (typeof err.code === 'number' ? err.code : 1), stdout, stderr })
    })
  })
}

before(async () => {
  const built = await mkdtemp(join(tmpdir(), 'citrate-sidecar-build-'))
  const m = await packageSidecar({ out: built, kubo: false })
  dir = await mkdtemp(join(tmpdir(), 'citrate-sidecar-'))
  exe = join(dir, sidecarFileName('citrate-ipfs'))
  await copyFile(m.executable, exe)
  await rm(built, { recursive: true, force: true })
  emptyPath = join(dir, 'empty-bin')
  await mkdir(emptyPath)
  // daemon_path a bare name, found nowhere on PATH: the kubo beside the executable is the only one.
  h = await makeTestHome('auto_pin = false', { daemonPath: 'ipfs' })
  other = await makeTestHome()
})
after(async () => {
  await h?.cleanup()
  await other?.cleanup()
  if (dir != null) await rm(dir, { recursive: true, force: true })
})

describe('packaged single executable (no node, no node_modules)', () => {
  test('alone in its folder: --version, and status says kubo is missing until the kubo sidecar is beside it', async () => {
    assert.deepEqual((await readdir(dir)).sort(), ['empty-bin', sidecarFileName('citrate-ipfs')].sort())
    const v = await run(['--version'])
    assert.equal(v.code, 0, v.stderr)
    assert.equal(v.stdout.trim(), JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')).version)
    assert.equal(v.stderr, '', 'no experimental-feature warning or other noise')

    const missing = await run(['status', '--json'])
    assert.equal(missing.code, 0, missing.stderr)
    assert.equal(JSON.parse(missing.stdout).installed, false)

    await copyFile(testKuboBinary(), join(dir, sidecarFileName('ipfs')))
    const found = await run(['status', '--json'])
    assert.equal(found.code, 0, found.stderr)
    const st = JSON.parse(found.stdout) as { installed: boolean, running: boolean, kuboVersion: string }
    assert.equal(st.installed, true)
    assert.equal(st.running, false)
    assert.match(st.kuboVersion, /^\d+\.\d+\.\d+/)
  })

  test('daemon start / stop drive the bundled kubo', async () => {
    const start = await run(['daemon', 'start', '--json'])
    assert.equal(start.code, 0, start.stderr + start.stdout)
    const st = JSON.parse((await run(['status', '--json'])).stdout) as { running: boolean, peerId: string }
    assert.equal(st.running, true)
    assert.match(st.peerId, /^12D3Koo/)
    const stop = await run(['daemon', 'stop', '--json'])
    assert.equal(stop.code, 0, stop.stderr)
    assert.equal(JSON.parse((await run(['status', '--json'])).stdout).running, false)
  })

  test('pull from a loopback gateway: verified bytes in the registry', async () => {
    await other.manager.start()
    const bytes = chachaBytes('sidecar-pull', 3 * 1024 * 1024 + 17)
    const cid = await addBytes(other.config.paths.ipfsRepo, other.home, 'm.bin', bytes)
    await writeFile(join(h.home, 'citrate.toml'), (await readFile(join(h.home, 'citrate.toml'), 'utf8')) +
      `external_gateway = "http://127.0.0.1:${other.gatewayPort}"\n`)
    const r = await run(['pull', cid, '--name', 'packaged', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const result = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { pulled: boolean, path: string, entry: { verified: boolean } }
    assert.equal(result.pulled, true)
    assert.equal(result.entry.verified, true)
    assert.deepEqual(await readFile(result.path), Buffer.from(bytes))
    // Sanity: the bytes came from the other node, not from a daemon of this home.
    assert.equal(JSON.parse((await run(['status', '--json'])).stdout).running, false)
  })

  test('serve: the embedded UI loads in Chromium and its commands work', async () => {
    let serve: ChildProcess | undefined
    const browser = await launchChromium()
    try {
      serve = spawn(exe, ['serve', '--port', '0', '--json'], {
        cwd: dir, env: { PATH: emptyPath, HOME: dir, CITRATE_HOME: h.home, IPFS_TELEMETRY: 'off', CITRATE_IPFS_PUBLIC_GATEWAYS: '' }, stdio: ['ignore', 'pipe', 'inherit']
      })
      const first = await new Promise<string>((resolve, reject) => {
        const lines = createInterface({ input: serve!.stdout! })
        lines.once('line', resolve)
        serve!.once('exit', code => reject(new Error(`serve exited (${String(code)}) before its first line`)))
      })
      const info = JSON.parse(first) as { url: string, ui: boolean, loginUrl: string, tokenFile: string }
      assert.equal(info.ui, true, 'the packaged service has its UI')
      const token = (await readFile(info.tokenFile, 'utf8')).trim()
      const page = await browser.newPage({ viewport: { width: 1100, height: 800 } })
      await signIn(page, { url: info.url, token, newLoginUrl: () => info.loginUrl })
      // The Setup page asks ipfs_check_status: kubo (the sidecar beside us) is installed, not running.
      await page.getByTestId('state-stopped').waitFor({ timeout: 20_000 })
      assert.match(await page.getByTestId('state-stopped').innerText(), /kubo \d+\.\d+\.\d+ is ready/)
      await screenshot(page, 'sidecar-01-setup')
      // A command over the API with the bearer token, as Tauri calls it.
      const res = await fetch(`${info.url}/api/commands/ipfs_list_models`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
      assert.equal(res.status, 200)
      const { models } = await res.json() as { models: Array<{ id: string }> }
      assert.ok(models.some(m => m.id === 'packaged'), 'the model pulled by the packaged CLI is listed')
      // Only the embedded UI's own files: a missing asset or an escaping path is a 4xx, not some other asset.
      assert.equal((await fetch(`${info.url}/assets/nothing-here.js`)).status, 404)
      const escaping = await fetch(`${info.url}/assets/..%2f..%2fpackage.json`)
      assert.ok(escaping.status >= 400 && escaping.status < 500, `escaping path answered ${escaping.status}`)
    } finally {
      serve?.kill('SIGTERM')
      await browser.close()
    }
  })
})
