/**
 * The Tauri example (examples/tauri-app) end to end under Xvfb, run by
 * tools/tauri/test.mjs after it built the app around the packaged sidecar:
 * the app starts its sidecar, the webview's calls reach the service with a
 * valid token (the service's request log, forwarded by the app, says so), the
 * page starts kubo, and when the app goes — quit with SIGTERM, or killed
 * outright — no sidecar and no kubo are left running (checked in /proc).
 * kubo is the Go-built test kubo, offline, in a temp CITRATE_HOME.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { makeTestHome, testKuboBinary, type TestHome } from '../../packages/core/test/helpers/kubo.ts'

const appBinary = process.env.CITRATE_TAURI_APP
if (appBinary == null || appBinary === '') throw new Error('CITRATE_TAURI_APP is not set: run this with `npm run test:tauri`')

let xvfb: ChildProcess
let display: string
let h: TestHome

before(async () => {
  // -displayfd: Xvfb picks a free display and writes its number to fd 3.
  xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1024x768x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] })
  display = await new Promise<string>((resolve, reject) => {
    let out = ''
    xvfb.stdio[3]?.on('data', (c: Buffer) => {
      out += c.toString()
      if (out.includes('\n')) resolve(`:${out.trim()}`)
    })
    xvfb.once('exit', code => reject(new Error(`Xvfb exited (${String(code)}) before naming its display`)))
  })
  h = await makeTestHome()
})
after(async () => {
  await h?.cleanup()
  xvfb?.kill('SIGTERM')
})

interface Proc { pid: number, exe: string }

/** Every process carrying this run's marker in its environment: the app, its sidecar and the kubo it starts inherit it. */
function marked (marker: string): Proc[] {
  const found: Proc[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      if (/^State:\s+Z/m.test(readFileSync(`/proc/${name}/status`, 'utf8'))) continue
      if (!readFileSync(`/proc/${name}/environ`, 'utf8').split('\0').includes(marker)) continue
      found.push({ pid: Number(name), exe: readlinkSync(`/proc/${name}/exe`) })
    } catch { /* gone meanwhile, or not ours to read */ }
  }
  return found
}

async function until<T> (what: string, ms: number, probe: () => T | undefined, detail: () => string): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = probe()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000} s\n--- app output ---\n${detail()}`)
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

interface RunningApp { child: ChildProcess, output: () => string, marker: string, exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }> }

function startApp (): RunningApp {
  const marker = `CITRATE_TAURI_SMOKE=${randomBytes(8).toString('hex')}`
  const child = spawn(appBinary as string, [], {
    env: {
      ...h.env,
      DISPLAY: display,
      [marker.split('=')[0] as string]: marker.split('=')[1],
      // The service's request log (one line per request, with how it was authorized), forwarded by the app.
      DEBUG: 'citrate:service',
      // Xvfb has no GPU: WebKitGTK's compositing would fail or fall back noisily.
      WEBKIT_DISABLE_COMPOSITING_MODE: '1',
      LIBGL_ALWAYS_SOFTWARE: '1',
      NO_AT_BRIDGE: '1'
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout?.on('data', (c: Buffer) => { out += c.toString() })
  child.stderr?.on('data', (c: Buffer) => { out += c.toString() })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => child.once('exit', (code, signal) => resolve({ code, signal })))
  return { child, output: () => out, marker, exited }
}

/** Waits for the webview's calls in the service log, then names the sidecar and kubo processes. */
async function upAndCalling (app: RunningApp): Promise<{ sidecar: Proc, kubo: Proc }> {
  const logLine = (command: string): RegExp => new RegExp(`citrate:service POST /api/commands/${command} 200 \\(valid bearer token, origin tauri://localhost\\)`)
  await until('the webview calling ipfs_check_status with a valid token', 120_000, () => logLine('ipfs_check_status').test(app.output()) || undefined, app.output)
  await until('the webview starting kubo (ipfs_start_daemon)', 120_000, () => logLine('ipfs_start_daemon').test(app.output()) || undefined, app.output)
  const procs = marked(app.marker)
  const kubo = procs.find(p => p.exe === testKuboBinary())
  // Tauri's build copies the sidecar beside the app as `citrate-ipfs` (the triple dropped); the Node stand-in execs node.
  const sidecar = procs.find(p => p.exe === join(dirname(appBinary as string), 'citrate-ipfs') || p.exe === process.execPath)
  assert.ok(kubo != null, `a kubo runs for the app: ${JSON.stringify(procs)}`)
  assert.ok(sidecar != null, `a sidecar runs for the app: ${JSON.stringify(procs)}`)
  const status = await h.manager.status()
  assert.ok(status.state === 'Running' && status.pid === kubo.pid, `the kubo is the one our manager records (${JSON.stringify(status)})`)
  return { sidecar, kubo }
}

describe('Tauri example app (Xvfb)', { skip: process.platform !== 'linux' ? 'reads /proc, runs Xvfb' : false }, () => {
  test('starts its sidecar, the webview reaches the service with the token, SIGTERM quits: no sidecar, no kubo left', async () => {
    const app = startApp()
    try {
      const { sidecar, kubo } = await upAndCalling(app)
      assert.match(app.output(), /ipfs_check_status 200 \(valid bearer token/)
      app.child.kill('SIGTERM')
      const end = await app.exited
      assert.equal(end.code, 0, `the app quits cleanly on SIGTERM (${JSON.stringify(end)})\n${app.output()}`)
      // WebKit's web and network processes carry the marker too; they go when their app's pipes close.
      await until('nothing of the app left running', 10_000, () => marked(app.marker).length === 0 || undefined,
        () => `still running: ${JSON.stringify(marked(app.marker))} (sidecar ${sidecar.pid}, kubo ${kubo.pid})`)
      assert.match(app.output(), /stopping the kubo daemon this service started/)
      assert.match(app.output(), /\[citrate-ipfs\] exited \(code Some\(0\)/, 'the sidecar exited by itself, not killed')
      assert.equal((await h.manager.status()).state, 'Stopped')
    } finally {
      if (app.child.exitCode == null && app.child.signalCode == null) app.child.kill('SIGKILL')
    }
  })

  test('an app killed outright (SIGKILL) still leaves no sidecar or kubo: the sidecar sees its stdin close', async () => {
    const app = startApp()
    const { sidecar, kubo } = await upAndCalling(app)
    app.child.kill('SIGKILL')
    await app.exited
    await until('the sidecar and kubo going after the app died', 30_000, () => marked(app.marker).length === 0 || undefined,
      () => `${app.output()}\nstill running: ${JSON.stringify(marked(app.marker))} (sidecar ${sidecar.pid}, kubo ${kubo.pid})`)
    assert.equal((await h.manager.status()).state, 'Stopped')
  })
})
