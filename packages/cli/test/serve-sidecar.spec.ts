/**
 * `serve --json --sidecar`, the way a Tauri app runs it: the app's end is the
 * sidecar's stdin closing, and then the kubo daemon the service started stops
 * too (one it adopted keeps running). With `DEBUG=citrate:service` the service
 * logs each request and how it was authorized, never the token. Real kubo.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'
import { cliMain } from './helpers/cli.ts'

interface Sidecar { child: ChildProcess, url: string, token: string, stderr: () => string, exited: Promise<number | null> }

const homes: TestHome[] = []
const children: ChildProcess[] = []
after(async () => {
  for (const c of children) if (c.exitCode == null && c.signalCode == null) c.kill('SIGKILL')
  for (const h of homes) await h.cleanup()
})

async function home (): Promise<TestHome> {
  const h = await makeTestHome()
  homes.push(h)
  return h
}

async function startServe (h: TestHome, args: string[]): Promise<Sidecar> {
  const child = spawn(process.execPath, [cliMain, 'serve', '--json', '--port', '0', ...args], { env: { ...h.env, DEBUG: 'citrate:service' }, stdio: ['pipe', 'pipe', 'pipe'] })
  children.push(child)
  let err = ''
  child.stderr?.on('data', (c: Buffer) => { err += c.toString() })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  const first = await new Promise<{ url: string, tokenFile: string }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', l => resolve(JSON.parse(l) as { url: string, tokenFile: string }))
    child.once('exit', code => reject(new Error(`serve exited (${String(code)}) before its first line: ${err}`)))
  })
  return { child, url: first.url, token: readFileSync(first.tokenFile, 'utf8').trim(), stderr: () => err, exited }
}

/** A command as the Tauri webview sends it: bearer token, Origin tauri://localhost. */
async function call (s: Sidecar, name: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${s.url}/api/commands/${name}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json', origin: 'tauri://localhost' },
    body: '{}'
  })
  const body = await res.json() as Record<string, unknown>
  assert.equal(res.status, 200, JSON.stringify(body))
  return body
}

function alive (pid: number): boolean {
  return existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'))
}

async function within<T> (ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([p, new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms) })])
  } finally {
    clearTimeout(timer)
  }
}

describe('citrate-ipfs serve --sidecar', { skip: process.platform !== 'linux' ? 'reads /proc' : false }, () => {
  test('closing stdin stops the service and the kubo it started; the log shows each request with its valid token', async () => {
    const h = await home()
    const s = await startServe(h, ['--sidecar'])
    const started = await call(s, 'ipfs_start_daemon')
    assert.equal(started.adopted, false)
    const pid = started.pid as number
    assert.ok(Number.isInteger(pid) && alive(pid), `kubo runs (pid ${pid})`)
    const status = await call(s, 'ipfs_check_status')
    assert.equal(status.running, true)

    s.child.stdin?.end()
    assert.equal(await within(30_000, s.exited, 'the sidecar stopping'), 0, s.stderr())
    assert.equal(alive(pid), false, `kubo (pid ${pid}) stopped with the sidecar`)
    assert.equal((await h.manager.status()).state, 'Stopped')
    const log = s.stderr()
    assert.match(log, /citrate:service POST \/api\/commands\/ipfs_check_status 200 \(valid bearer token, origin tauri:\/\/localhost\)/)
    assert.match(log, /stopping the kubo daemon this service started/)
    assert.ok(!log.includes(s.token), 'the token is never logged')
  })

  test('when its app dies (stdin closed, nobody reading stdout or stderr any more), it still stops the kubo it started', async () => {
    const h = await home()
    const s = await startServe(h, ['--sidecar'])
    const pid = (await call(s, 'ipfs_start_daemon')).pid as number
    assert.ok(alive(pid))
    // As when the app is SIGKILLed: every pipe end the app held closes at once; the exit log line then hits EPIPE.
    s.child.stdout?.destroy()
    s.child.stderr?.destroy()
    s.child.stdin?.destroy()
    await within(30_000, s.exited, 'the sidecar stopping')
    assert.equal(alive(pid), false, `kubo (pid ${pid}) stopped with the orphaned sidecar`)
    assert.equal((await h.manager.status()).state, 'Stopped')
  })

  test('a daemon it adopted keeps running when the sidecar stops', async () => {
    const h = await home()
    const { status } = await h.manager.start()
    const pid = status.pid as number
    const s = await startServe(h, ['--sidecar'])
    assert.equal((await call(s, 'ipfs_start_daemon')).adopted, true)
    s.child.stdin?.end()
    assert.equal(await within(30_000, s.exited, 'the sidecar stopping'), 0, s.stderr())
    assert.ok(alive(pid), 'the adopted kubo still runs')
    assert.equal((await h.manager.status()).state, 'Running')
  })

  test('without --sidecar, a closed stdin does not stop serve (it runs in the background as before); SIGTERM does, kubo kept', async () => {
    const h = await home()
    const s = await startServe(h, [])
    const pid = (await call(s, 'ipfs_start_daemon')).pid as number
    s.child.stdin?.end()
    await new Promise(resolve => setTimeout(resolve, 500))
    assert.equal((await fetch(`${s.url}/health`)).status, 200, 'still serving')
    s.child.kill('SIGTERM')
    assert.equal(await within(30_000, s.exited, 'serve stopping'), 0)
    assert.ok(alive(pid), 'kubo keeps running, as `serve` says')
  })
})
