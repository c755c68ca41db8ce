/**
 * Who may use the service: the bearer token (the Tauri app, scripts), or a
 * browser that signed in through a one-time login URL and holds its session
 * cookie. Nothing that answers a request without either contains the token.
 * No kubo is needed: every call here is answered by the service itself.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { readdir } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { createClient } from '@citrate-ipfs/client'
import { startService, type RunningService } from '../src/index.ts'
import { makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'

const UI_DIR = resolve(import.meta.dirname, '..', '..', 'ui', 'dist')

interface Raw { status: number, headers: Record<string, string | string[] | undefined>, body: string }
/** A raw HTTP request to 127.0.0.1, so tests can send any Host, Origin, Cookie and Sec-Fetch-Site. */
function raw (port: number, path: string, opts: { method?: string, headers?: Record<string, string>, body?: string } = {}): Promise<Raw> {
  return new Promise((resolveRaw, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => {
        body += c
        // An event stream never ends by itself: its first frame is enough to see what it carries.
        if (String(res.headers['content-type']).startsWith('text/event-stream')) { req.destroy(); resolveRaw({ status: res.statusCode ?? 0, headers: res.headers, body }) }
      })
      res.on('end', () => resolveRaw({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end(opts.body)
  })
}

/** What the browser would send back after a `Set-Cookie`: `name=value`. */
function cookieOf (r: Raw): string {
  const set = r.headers['set-cookie']
  assert.ok(Array.isArray(set) && set.length === 1, `one Set-Cookie (got ${JSON.stringify(set)})`)
  return (set[0] ?? '').split(';')[0] ?? ''
}

/** The path and query of a login URL (requests here go to 127.0.0.1 by themselves). */
const pathOf = (loginUrl: string): string => { const u = new URL(loginUrl); return u.pathname + u.search }

let h: TestHome
let svc: RunningService
/** A browser's headers on a same-origin request from the served page. */
let fromPage: Record<string, string>

before(async () => {
  assert.ok(existsSync(join(UI_DIR, 'index.html')), `the UI is built (npm run build): ${UI_DIR}`)
  h = await makeTestHome('', { daemonPath: 'ipfs-citrate-test-absent' })
  svc = await startService({ home: h.home, port: 0, uiDir: UI_DIR, env: { ...h.env, PATH: '/nonexistent' } })
  fromPage = { origin: svc.url, 'sec-fetch-site': 'same-origin' }
})
after(async () => {
  await svc?.close()
  await h?.cleanup()
})

async function signIn (): Promise<string> {
  const r = await raw(svc.port, pathOf(svc.newLoginUrl()))
  assert.equal(r.status, 303)
  return cookieOf(r)
}

describe('service sign-in', () => {
  test('no answer to a request without the token or a session holds the token, on any route', async () => {
    const assets = (await readdir(join(UI_DIR, 'assets'))).map(f => `/assets/${f}`)
    assert.ok(assets.length >= 2, 'the built UI has its script and style')
    const paths = ['/', '/index.html', '/models', '/health', ...assets, '/assets/missing.js', '/nope.png', '/%zz',
      '/api/openapi.json', '/api/events', '/api/commands/ipfs_get_config', '/api/commands/ipfs_check_status', '/api/commands/no_such',
      '/api/login-codes', '/api/nope', '/login', '/login?code=', `/login?code=${'A'.repeat(43)}`, `/login?code=${svc.token}`]
    const asks: Array<Record<string, string>> = [{}, { authorization: `Bearer ${'0'.repeat(64)}` }, { cookie: `citrate_ipfs_session_${svc.port}=${svc.token}` },
      { origin: svc.url, 'sec-fetch-site': 'same-origin', accept: 'text/html' }, { origin: 'https://evil.example' }]
    const needles = [svc.token, svc.token.toUpperCase(), Buffer.from(svc.token, 'hex').toString('base64'), Buffer.from(svc.token, 'hex').toString('base64url')]
    let answers = 0
    let uiPages = 0
    for (const path of paths) {
      for (const method of ['GET', 'HEAD', 'POST', 'OPTIONS']) {
        for (const headers of asks) {
          const r = await raw(svc.port, path, { method, headers: { ...headers, 'content-type': 'application/json' }, body: method === 'POST' ? '{}' : undefined })
          const seen = JSON.stringify(r.headers) + r.body
          for (const n of needles) assert.ok(!seen.includes(n), `${method} ${path} ${JSON.stringify(headers)} → ${r.status} contains the token`)
          if (path.startsWith('/api/') && method !== 'OPTIONS' && headers.origin !== 'https://evil.example') assert.equal(r.status, 401, `${method} ${path} without auth`)
          if (path === '/' && method === 'GET' && r.status === 200) uiPages++
          answers++
        }
      }
    }
    assert.ok(answers > 400)
    assert.ok(uiPages >= 3, 'the UI page itself is served without auth (it holds nothing secret)')
    // The page a signed-in browser gets holds no token either: the cookie, not the page, carries the session.
    const page = await raw(svc.port, '/', { headers: { cookie: await signIn() } })
    assert.equal(page.status, 200)
    assert.match(page.body, /<div id="root">/)
    assert.ok(!page.body.includes(svc.token))
    assert.doesNotMatch(page.body, /citrate-token/)
  })

  test('a login code signs a browser in once: a session cookie (not the token), HttpOnly, SameSite=Strict, and a redirect that drops the code', async () => {
    const loginUrl = svc.newLoginUrl()
    assert.match(loginUrl, new RegExp(`^http://127\\.0\\.0\\.1:${svc.port}/login\\?code=[A-Za-z0-9_-]{43}$`), 'a 256-bit code on our own origin')
    const first = await raw(svc.port, pathOf(loginUrl))
    assert.equal(first.status, 303)
    assert.equal(first.headers.location, '/')
    assert.equal(first.headers['cache-control'], 'no-store')
    assert.equal(first.headers['referrer-policy'], 'no-referrer')
    const set = String(first.headers['set-cookie'])
    assert.match(set, /; HttpOnly/)
    assert.match(set, /; SameSite=Strict/)
    assert.match(set, /; Path=\//)
    assert.doesNotMatch(set, /Secure|Domain=|Max-Age|Expires/i, 'plain http on loopback, host-only, gone when the browser closes')
    const cookie = cookieOf(first)
    assert.match(cookie, new RegExp(`^citrate_ipfs_session_${svc.port}=[A-Za-z0-9_-]{43}$`))
    assert.ok(!cookie.includes(svc.token))

    const again = await raw(svc.port, pathOf(loginUrl))
    assert.equal(again.status, 401, 'a used code is refused')
    assert.equal(again.headers['set-cookie'], undefined)
    assert.equal(JSON.parse(again.body).error.code, 'UNAUTHORIZED')
    assert.match(JSON.parse(again.body).error.message, /already used.*citrate-ipfs login --port \d+/)
    const page = await raw(svc.port, pathOf(loginUrl), { headers: { accept: 'text/html,*/*' } })
    assert.equal(page.status, 401)
    assert.match(String(page.headers['content-type']), /^text\/html/)
    assert.match(page.body, /expired or was already used.*citrate-ipfs login/)
    // The browser that used it, following the same link again, is simply sent on.
    const signedIn = await raw(svc.port, pathOf(loginUrl), { headers: { cookie } })
    assert.equal(signedIn.status, 303)
    assert.equal(signedIn.headers['set-cookie'], undefined)

    for (const bad of ['/login', '/login?code=', `/login?code=${loginUrl.slice(-43, -1)}`, `/login?code=${loginUrl.slice(-43)}x`]) {
      assert.equal((await raw(svc.port, bad)).status, 401, bad)
    }
    assert.equal((await raw(svc.port, pathOf(svc.newLoginUrl()), { method: 'POST' })).status, 405, 'only a GET redeems a code')
  })

  test('an expired login code is refused', async () => {
    const short = await startService({ home: h.home, port: 0, env: h.env, loginCodeTtlMs: 30 })
    try {
      const late = short.newLoginUrl()
      const inTime = short.newLoginUrl()
      assert.equal((await raw(short.port, pathOf(inTime))).status, 303)
      await new Promise(r => setTimeout(r, 80))
      const r = await raw(short.port, pathOf(late))
      assert.equal(r.status, 401)
      assert.match(JSON.parse(r.body).error.message, /expired/)
      assert.equal(r.headers['set-cookie'], undefined)
    } finally {
      await short.close()
    }
  })

  test('the session cookie works for commands and the event stream from our own page', async () => {
    const cookie = await signIn()
    const r = await raw(svc.port, '/api/commands/ipfs_get_config', { method: 'POST', headers: { ...fromPage, cookie, 'content-type': 'application/json' }, body: '{}' })
    assert.equal(r.status, 200, r.body)
    assert.equal(JSON.parse(r.body).home, h.home)
    // An EventSource's GET: same-origin, so browsers send no Origin, only Sec-Fetch-Site.
    const events = await raw(svc.port, '/api/events', { headers: { cookie, 'sec-fetch-site': 'same-origin', accept: 'text/event-stream' } })
    assert.equal(events.status, 200)
    assert.match(events.body, /^: connected/)
    // The address typed into the browser (Sec-Fetch-Site: none) reads the API description.
    assert.equal((await raw(svc.port, '/api/openapi.json', { headers: { cookie, 'sec-fetch-site': 'none' } })).status, 200)
    // A cookie the service never issued, or another port's, is no session.
    const [name] = cookie.split('=')
    for (const forged of [`${name ?? ''}=${'A'.repeat(43)}`, `${name ?? ''}=${svc.token}`, `citrate_ipfs_session_${svc.port + 1}=${cookie.split('=')[1] ?? ''}`]) {
      const f = await raw(svc.port, '/api/commands/ipfs_get_config', { method: 'POST', headers: { ...fromPage, cookie: forged } })
      assert.equal(f.status, 401, forged)
    }
    // Among other cookies of 127.0.0.1 (other ports share them) ours is still found.
    const mixed = await raw(svc.port, '/api/commands/ipfs_get_config', { method: 'POST', headers: { ...fromPage, cookie: `other=1; ${cookie}; x=y` } })
    assert.equal(mixed.status, 200)
  })

  test('with only the cookie, a request not from our own page is refused (CSRF, other ports of 127.0.0.1, DNS rebinding)', async () => {
    const cookie = await signIn()
    const post = (headers: Record<string, string>): Promise<Raw> =>
      raw(svc.port, '/api/commands/ipfs_configure_gateway', { method: 'POST', headers: { cookie, 'content-type': 'application/json', ...headers }, body: '{"url":"https://evil.example"}' })
    const refusals: Array<[Record<string, string>, string]> = [
      [{ origin: 'https://evil.example' }, 'FORBIDDEN_ORIGIN'],
      // Another server on 127.0.0.1 is the same site: SameSite lets the cookie through, the Origin does not.
      [{ origin: `http://127.0.0.1:${svc.port + 1}`, 'sec-fetch-site': 'same-site' }, 'FORBIDDEN_ORIGIN'],
      // Tauri's origin is allowed with the token, never on a browser's cookie.
      [{ origin: 'tauri://localhost' }, 'FORBIDDEN_ORIGIN'],
      // A POST riding on the cookie without an Origin is not a browser's own page.
      [{}, 'FORBIDDEN_ORIGIN'],
      [{ origin: svc.url, 'sec-fetch-site': 'same-site' }, 'FORBIDDEN_ORIGIN'],
      [{ origin: svc.url, 'sec-fetch-site': 'cross-site' }, 'FORBIDDEN_ORIGIN'],
      [{ origin: svc.url, host: `rebound.example:${svc.port}` }, 'FORBIDDEN_HOST']
    ]
    for (const [headers, code] of refusals) {
      const r = await post(headers)
      assert.equal(r.status, 403, JSON.stringify(headers))
      assert.equal(JSON.parse(r.body).error.code, code, JSON.stringify(headers))
    }
    // A cross-site GET (an <img> or <script> pointing at us) rides on no cookie either.
    assert.equal((await raw(svc.port, '/api/events', { headers: { cookie, 'sec-fetch-site': 'same-site' } })).status, 403)
    const config = await raw(svc.port, '/api/commands/ipfs_get_config', { method: 'POST', headers: { ...fromPage, cookie } })
    assert.equal(JSON.parse(config.body).ipfs.external_gateway, '', 'none of the refused calls changed the config')
    assert.equal((await post(fromPage)).status, 200, 'the same call from our own page goes through')
  })

  test('the bearer token still works on its own (the Tauri app), and mints login URLs for a running service', async () => {
    const client = createClient({ baseUrl: svc.url, token: svc.token })
    assert.equal((await client.invoke('ipfs_get_config')).home, h.home)
    const tauri = await raw(svc.port, '/api/commands/ipfs_get_config', { method: 'POST', headers: { authorization: `Bearer ${svc.token}`, origin: 'tauri://localhost' } })
    assert.equal(tauri.status, 200)
    const minted = await raw(svc.port, '/api/login-codes', { method: 'POST', headers: { authorization: `Bearer ${svc.token}` } })
    assert.equal(minted.status, 201)
    const { loginUrl, expiresAt } = JSON.parse(minted.body) as { loginUrl: string, expiresAt: string }
    const ttl = Date.parse(expiresAt) - Date.now()
    assert.ok(ttl > 60_000 && ttl <= 120_000, `two minutes by default (${ttl} ms)`)
    assert.equal((await raw(svc.port, pathOf(loginUrl))).status, 303)
    assert.equal((await raw(svc.port, '/api/login-codes', { method: 'POST' })).status, 401, 'minting needs the token (or a session)')
  })
})
