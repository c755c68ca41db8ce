/**
 * `serve` prints a one-time login URL (its --json first line keeps url and
 * tokenFile and adds loginUrl), and `login` mints a new one for the running
 * service from the token file. No kubo needed: nothing here reaches it.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { request } from 'node:http'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'
import { freePort } from '../../core/src/util/ports.ts'

const cliMain = fileURLToPath(new URL('../dist/main.js', import.meta.url))

interface Run { code: number, stdout: string, stderr: string }
function cli (args: string[]): Promise<Run> {
  return new Promise(resolve => {
    execFile(process.execPath, [cliMain, ...args], { env: h.env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err == null ? 0 : (typeof err.code === 'number' ? err.code : 1), stdout, stderr })
    })
  })
}

/** Opens a login URL as a browser would (without following the redirect). */
function open (loginUrl: string): Promise<{ status: number, cookie: string | undefined }> {
  return new Promise((resolve, reject) => {
    request(loginUrl, res => {
      res.resume()
      resolve({ status: res.statusCode ?? 0, cookie: res.headers['set-cookie']?.[0] })
    }).on('error', reject).end()
  })
}

let h: TestHome
let serve: ChildProcess
let first: { url: string, port: number, tokenFile: string, ui: boolean, loginUrl: string }

before(async () => {
  h = await makeTestHome('', { daemonPath: 'ipfs-citrate-test-absent' })
  serve = spawn(process.execPath, [cliMain, 'serve', '--port', '0', '--json'], { env: h.env, stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = createInterface({ input: serve.stdout! })
  first = await new Promise((resolve, reject) => {
    lines.once('line', l => resolve(JSON.parse(l) as typeof first))
    serve.once('exit', code => reject(new Error(`serve exited (${String(code)}) before its first line`)))
  })
})
after(async () => {
  if (serve?.exitCode == null && serve?.pid != null) {
    const exited = new Promise(r => serve.once('exit', r))
    serve.kill('SIGTERM')
    await exited
  }
  await h?.cleanup()
})

describe('citrate-ipfs serve / login', () => {
  test('serve --json: the first line keeps url and tokenFile and adds a login URL that works once', async () => {
    assert.match(first.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.ok(first.tokenFile.endsWith('service-token'))
    assert.ok(first.loginUrl.startsWith(`${first.url}/login?code=`))
    const signed = await open(first.loginUrl)
    assert.equal(signed.status, 303)
    assert.match(signed.cookie ?? '', /HttpOnly; SameSite=Strict/)
    assert.equal((await open(first.loginUrl)).status, 401, 'the printed link is used up')
  })

  test('login prints a new link for the running service; with no service there, a one-line error and exit 2', async () => {
    const r = await cli(['login', '--port', String(first.port), '--json'])
    assert.equal(r.code, 0, r.stderr)
    const { loginUrl, expiresAt } = JSON.parse(r.stdout) as { loginUrl: string, expiresAt: string }
    assert.notEqual(loginUrl, first.loginUrl)
    assert.ok(Date.parse(expiresAt) > Date.now())
    assert.equal((await open(loginUrl)).status, 303)

    const human = await cli(['login', '--port', String(first.port)])
    assert.match(human.stdout, /open this link to sign in[^\n]*\n {2}http:\/\/127\.0\.0\.1:\d+\/login\?code=/)

    const nobody = await cli(['login', '--port', String(await freePort())])
    assert.equal(nobody.code, 2)
    assert.match(nobody.stderr, /^citrate-ipfs: error: no citrate-ipfs service answers on http:\/\/127\.0\.0\.1:\d+: start it with `citrate-ipfs serve`/)
  })
})
