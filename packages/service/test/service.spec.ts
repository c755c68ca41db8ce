/**
 * The service against a real kubo: the seed's commands, live events, the
 * OpenAPI document kept true, and the security rules.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Ajv } from 'ajv'
import { COMMAND_SCHEMAS, ServiceEvent as ServiceEventSchema } from '@citrate-ipfs/contract'
import { createClient, CommandError, type ServiceEvent } from '@citrate-ipfs/client'
import { COMMANDS, startService, type RunningService } from '../src/index.ts'
import { makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'
import { startDistMirror, type DistMirror } from '../../core/test/helpers/dist-mirror.ts'

interface Raw { status: number, headers: Record<string, string | string[] | undefined>, body: string }
/** A raw HTTP request to 127.0.0.1, so tests can send any Host and Origin. */
function raw (port: number, path: string, opts: { method?: string, headers?: Record<string, string>, body?: string } = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers }, res => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end(opts.body)
  })
}

let h: TestHome
let svc: RunningService
let mirror: DistMirror
const auth = (): Record<string, string> => ({ authorization: `Bearer ${svc.token}` })

before(async () => {
  mirror = await startDistMirror()
  h = await makeTestHome(`dist_url = "${mirror.url}"`)
  svc = await startService({ home: h.home, port: 0, env: h.env })
})
after(async () => {
  await svc.close()
  await h.cleanup()
  await mirror.close()
})

describe('service security', () => {
  test('health needs no token; everything under /api does', async () => {
    assert.equal((await raw(svc.port, '/health')).status, 200)
    const r = await raw(svc.port, '/api/commands/ipfs_check_status', { method: 'POST' })
    assert.equal(r.status, 401)
    assert.equal(JSON.parse(r.body).error.code, 'UNAUTHORIZED')
    const wrong = await raw(svc.port, '/api/commands/ipfs_check_status', { method: 'POST', headers: { authorization: `Bearer ${'0'.repeat(64)}` } })
    assert.equal(wrong.status, 401)
    assert.equal((await raw(svc.port, '/api/events')).status, 401)
    assert.equal((await raw(svc.port, '/api/openapi.json')).status, 401)
  })

  test('a foreign Origin is refused (403); the Tauri webview origin is allowed with CORS', async () => {
    const evil = await raw(svc.port, '/api/commands/ipfs_check_status', { method: 'POST', headers: { ...auth(), origin: 'https://evil.example' } })
    assert.equal(evil.status, 403)
    assert.equal(JSON.parse(evil.body).error.code, 'FORBIDDEN_ORIGIN')
    const tauri = await raw(svc.port, '/api/commands/ipfs_check_status', { method: 'POST', headers: { ...auth(), origin: 'tauri://localhost' } })
    assert.equal(tauri.status, 200)
    assert.equal(tauri.headers['access-control-allow-origin'], 'tauri://localhost')
    const preflight = await raw(svc.port, '/api/commands/ipfs_check_status', { method: 'OPTIONS', headers: { origin: 'https://evil.example' } })
    assert.equal(preflight.status, 403)
  })

  test('a Host header that is not a loopback name is refused (DNS rebinding)', async () => {
    for (const host of ['evil.example', `evil.example:${svc.port}`, `127.0.0.1:${svc.port + 1}`]) {
      const r = await raw(svc.port, '/api/commands/ipfs_check_status', { method: 'POST', headers: { ...auth(), host } })
      assert.equal(r.status, 403, host)
      assert.equal(JSON.parse(r.body).error.code, 'FORBIDDEN_HOST')
    }
    assert.equal((await raw(svc.port, '/health', { headers: { host: 'evil.example' } })).status, 403)
    assert.equal((await raw(svc.port, '/health', { headers: { host: `localhost:${svc.port}` } })).status, 200)
  })

  test('the port is bound to 127.0.0.1 only, so no other address reaches it', async () => {
    const addr = svc.server.address()
    assert.ok(addr != null && typeof addr === 'object')
    assert.equal(addr.address, '127.0.0.1')
    // The kernel's own table of listening sockets agrees: 127.0.0.1, never 0.0.0.0 or ::.
    const hexPort = svc.port.toString(16).toUpperCase().padStart(4, '0')
    const listening = [
      ...(await readFile('/proc/net/tcp', 'utf8')).split('\n'),
      ...(await readFile('/proc/net/tcp6', 'utf8').catch(() => '')).split('\n')
    ].map(l => l.trim().split(/\s+/)).filter(c => c[1]?.endsWith(`:${hexPort}`) && c[3] === '0A')
    assert.deepEqual(listening.map(c => c[1]), [`0100007F:${hexPort}`])
  })

  test('the token file is private (0600) and stable across restarts', async () => {
    const st = await stat(svc.tokenFile)
    assert.equal(st.mode & 0o777, 0o600)
    const again = await startService({ home: h.home, port: 0, env: h.env })
    assert.equal(again.token, svc.token)
    await again.close()
  })

  test('bodies are validated with clear 4xx errors', async () => {
    const post = (path: string, body: string, type = 'application/json'): Promise<Raw> =>
      raw(svc.port, path, { method: 'POST', headers: { ...auth(), 'content-type': type }, body })
    let r = await post('/api/commands/ipfs_configure_gateway', '{"url":')
    assert.equal(r.status, 400)
    assert.deepEqual(JSON.parse(r.body).error, { code: 'INVALID_JSON', message: 'ipfs_configure_gateway: request body is not valid JSON' })
    r = await post('/api/commands/ipfs_configure_gateway', '{"url": 5}')
    assert.equal(r.status, 400)
    assert.match(JSON.parse(r.body).error.message, /argument url must be string/)
    r = await post('/api/commands/ipfs_configure_gateway', '{}')
    assert.match(JSON.parse(r.body).error.message, /must have required property 'url'/)
    r = await post('/api/commands/ipfs_check_status', '{"surprise": true}')
    assert.equal(r.status, 400)
    assert.match(JSON.parse(r.body).error.message, /must NOT have additional properties \(surprise\)/)
    r = await post('/api/commands/ipfs_configure_gateway', 'url=x', 'application/x-www-form-urlencoded')
    assert.equal(r.status, 400)
    r = await post('/api/commands/ipfs_configure_gateway', JSON.stringify({ url: 'x'.repeat(70_000) }))
    assert.equal(r.status, 413)
    r = await post('/api/commands/ipfs_configure_gateway', '{"url":"http://gw.example.com"}')
    assert.equal(r.status, 400)
    assert.equal(JSON.parse(r.body).error.code, 'INVALID_ARGUMENT')
    assert.match(JSON.parse(r.body).error.message, /must use https/)
    r = await post('/api/commands/no_such_command', '{}')
    assert.equal(r.status, 404)
    assert.equal((await raw(svc.port, '/api/commands/ipfs_check_status', { headers: auth() })).status, 405)
  })
})

describe('service commands (real kubo)', () => {
  test('OpenAPI describes exactly the commands served, and real responses match its schemas', async () => {
    const doc = JSON.parse((await raw(svc.port, '/api/openapi.json', { headers: auth() })).body)
    assert.equal(doc.openapi, '3.1.0')
    const documented = Object.keys(doc.paths).filter((p: string) => p.startsWith('/api/commands/')).map((p: string) => p.slice('/api/commands/'.length)).sort()
    assert.deepEqual(documented, Object.keys(COMMANDS).sort())
    for (const seed of ['ipfs_check_status', 'ipfs_install', 'ipfs_start_daemon', 'ipfs_stop_daemon', 'ipfs_configure_gateway']) assert.ok(documented.includes(seed), seed)

    const ajv = new Ajv({ strict: false })
    const client = createClient({ baseUrl: svc.url, token: svc.token })
    const check = (name: string, result: unknown): void => {
      const schema = doc.paths[`/api/commands/${name}`].post.responses['200'].content['application/json'].schema
      assert.ok(ajv.validate(schema, result), `${name} result does not match its documented schema: ${ajv.errorsText()}`)
    }
    check('ipfs_check_status', await client.invoke('ipfs_check_status'))
    check('ipfs_get_config', await client.invoke('ipfs_get_config'))
    check('ipfs_configure_gateway', await client.invoke('ipfs_configure_gateway', { url: 'https://gw.example.com/' }))
    check('ipfs_start_daemon', await client.invoke('ipfs_start_daemon'))
    check('ipfs_check_status', await client.invoke('ipfs_check_status'))
    check('ipfs_stop_daemon', await client.invoke('ipfs_stop_daemon'))
    const errorSchema = doc.components.schemas.Error
    const bad = await raw(svc.port, '/api/commands/ipfs_configure_gateway', { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: '{}' })
    assert.ok(ajv.validate(errorSchema, JSON.parse(bad.body)))
  })

  test('start → status answers both the seed shape and the app shape → stop, with status events streamed', async () => {
    const client = createClient({ baseUrl: svc.url, token: svc.token })
    const events: ServiceEvent[] = []
    const ac = new AbortController()
    const listening = client.listen(e => events.push(e), { signal: ac.signal })
    await waitUntil(() => true, 100)
    const started = await client.invoke('ipfs_start_daemon')
    assert.equal(started.state, 'Running')
    const s = await client.invoke('ipfs_check_status')
    assert.equal(s.installed, true)
    assert.equal(s.running, true)
    assert.equal(s.connected, true)
    assert.match(s.peerId ?? '', /^12D3Koo/)
    assert.ok(Array.isArray(s.addresses))
    assert.equal(s.rpcProtected, true, 'the daemon the service started has its RPC locked')
    const rpcSecret = (await readFile(h.config.paths.rpcSecret, 'utf8')).trim()
    assert.equal((await client.invoke('ipfs_start_daemon')).adopted, true)
    await client.invoke('ipfs_stop_daemon')
    assert.equal((await client.invoke('ipfs_check_status')).state, 'Stopped')
    await waitUntil(() => events.filter(e => e.event === 'status').length >= 2, 5000)
    ac.abort()
    await listening
    assert.ok(events.some(e => e.event === 'daemon-progress'))
    const served = JSON.stringify([s, events, await client.invoke('ipfs_get_config')])
    assert.ok(rpcSecret.length === 64 && !served.includes(rpcSecret), 'kubo\'s RPC secret is never served')
    const ajv = new Ajv({ strict: false })
    for (const e of events) assert.ok(ajv.validate(ServiceEventSchema, e), `${e.event} does not match the contract: ${ajv.errorsText()}`)
    assert.deepEqual(events.filter(e => e.event === 'status').map(e => (e.data as { state: string }).state).slice(0, 1), ['Running'])
  })

  test('errors reach the client as {code, message}', async () => {
    const client = createClient({ baseUrl: svc.url, token: svc.token })
    await writeFile(join(h.home, 'citrate.toml'), (await readFile(join(h.home, 'citrate.toml'), 'utf8')) + 'daemon_enabled = false\n')
    try {
      await assert.rejects(client.invoke('ipfs_start_daemon'), (err: Error) => err instanceof CommandError && err.code === 'DAEMON_DISABLED' && err.status === 409)
    } finally {
      await writeFile(join(h.home, 'citrate.toml'), (await readFile(join(h.home, 'citrate.toml'), 'utf8')).replace('daemon_enabled = false\n', ''))
    }
  })

  test('ipfs_install streams install-progress events and installs from the dist mirror', async () => {
    const h2 = await makeTestHome(`dist_url = "${mirror.url}"`, { daemonPath: 'ipfs-citrate-test-absent' })
    const env = { ...h2.env, PATH: '/nonexistent' }
    const svc2 = await startService({ home: h2.home, port: 0, env })
    try {
      const client = createClient({ baseUrl: svc2.url, token: svc2.token })
      assert.equal((await client.invoke('ipfs_check_status')).state, 'NotInstalled')
      const events: ServiceEvent[] = []
      const ac = new AbortController()
      const listening = client.listen(e => events.push(e), { signal: ac.signal })
      await waitUntil(() => true, 100)
      const r = await client.invoke('ipfs_install', { version: mirror.version })
      assert.equal(r.version, mirror.version)
      await waitUntil(() => events.some(e => e.event === 'install-progress' && e.data.type === 'citrate:install:done'), 5000)
      ac.abort()
      await listening
      const types = events.filter(e => e.event === 'install-progress').map(e => (e.data as { type: string }).type)
      assert.equal(types[0], 'citrate:install:resolve')
      assert.ok(types.includes('citrate:install:download'))
      const ajv = new Ajv({ strict: false })
      for (const e of events) assert.ok(ajv.validate(ServiceEventSchema, e), `${e.event} does not match the contract: ${ajv.errorsText()}`)
      assert.ok(ajv.validate(COMMAND_SCHEMAS.ipfs_install.result, r), ajv.errorsText())
      assert.equal((await client.invoke('ipfs_check_status')).state, 'Stopped')
    } finally {
      await svc2.close()
      await h2.cleanup()
    }
  })
})

async function waitUntil (cond: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`)
    await new Promise(r => setTimeout(r, 50))
  }
  await new Promise(r => setTimeout(r, 50))
}
