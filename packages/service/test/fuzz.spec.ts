/**
 * Hostile input against the real service (and a real kubo, offline): every
 * command of the COMMANDS table gets wrong types, missing and extra fields,
 * huge, deeply nested and unicode bodies, invalid CIDs and codecs, traversal
 * names and malformed URLs; the HTTP layer gets malformed %-escapes, headers,
 * methods and content types. Deterministic: one seed, a fixed case list,
 * shuffled by it. Nothing may answer 5xx, every 4xx is a JSON error body
 * with a code of the vocabulary (and the status the one map gives it), and
 * the service answers a status call afterwards.
 *
 * Only loopback is touched: the dist site and every gateway are closed
 * 127.0.0.1 ports, the daemon runs offline, and no request is valid for the
 * commands that would start long work (install, daemon start/stop).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { request } from 'node:http'
import { readFile, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { isWireErrorCode } from '@citrate-ipfs/contract'
import { COMMANDS, httpStatusFor, startService, type RunningService, type ServiceAnswerCode } from '../src/index.ts'
import { ipfs, makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'
import { freePort } from '../../core/src/util/ports.ts'

const SEED = 0x1151

/** mulberry32: a small seeded PRNG, so a failing case can be replayed. */
function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface Answer { status: number, type: string, body: string }
interface Case { label: string, send: () => Promise<Answer>, head?: boolean }

let h: TestHome
let svc: RunningService
let closedPort: number
let present: string
let cbor: string
let absentRaw: string

function http (path: string, opts: { method?: string, headers?: Record<string, string>, body?: string | Buffer } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: svc.port, path, method: opts.method ?? 'GET', headers: opts.headers }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') }))
    })
    req.on('error', reject)
    req.end(opts.body)
  })
}

/**
 * Bytes straight onto a socket, for requests Node's client will not send (bad
 * headers, bad request lines). The socket is not half-closed (Node's server
 * drops the answer to a request whose client sent FIN first); the answer is
 * read until it is complete (content-length or the last chunk) or the server closes.
 */
function wire (bytes: string | Buffer, opts: { head?: boolean } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const sock = connect(svc.port, '127.0.0.1')
    let data = Buffer.alloc(0)
    let done = false
    const finish = (a: Answer | Error): void => {
      if (done) return
      done = true
      sock.destroy()
      if (a instanceof Error) reject(a); else resolve(a)
    }
    const parse = (final: boolean): void => {
      const text = data.toString('latin1')
      const end = text.indexOf('\r\n\r\n')
      if (end < 0) { if (final) finish(new Error(`no HTTP answer to ${JSON.stringify(bytes.toString().slice(0, 80))}: ${JSON.stringify(text.slice(0, 200))}`)); return }
      const head = text.slice(0, end)
      const m = /^HTTP\/1\.1 (\d{3})/.exec(head)
      if (m == null) { finish(new Error(`not an HTTP answer: ${JSON.stringify(head.slice(0, 200))}`)); return }
      const header = (name: string): string | undefined => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head)?.[1]?.trim()
      const rest = data.subarray(end + 4)
      let body: Buffer | undefined
      const length = header('content-length')
      if (opts.head === true || m[1] === '204' || m[1] === '304') body = Buffer.alloc(0)
      else if (length != null) { if (rest.length >= Number(length)) body = rest.subarray(0, Number(length)) } else if (/chunked/i.test(header('transfer-encoding') ?? '')) {
        const parts: Buffer[] = []
        let at = 0
        for (;;) {
          const nl = rest.indexOf('\r\n', at)
          if (nl < 0) break
          const size = Number.parseInt(rest.subarray(at, nl).toString('latin1'), 16)
          if (!Number.isFinite(size) || rest.length < nl + 2 + size + 2) break
          if (size === 0) { body = Buffer.concat(parts); break }
          parts.push(rest.subarray(nl + 2, nl + 2 + size))
          at = nl + 2 + size + 2
        }
      } else if (final) body = rest
      if (body != null) finish({ status: Number(m[1]), type: header('content-type') ?? '', body: body.toString('utf8') })
      else if (final) finish(new Error(`a truncated answer: ${JSON.stringify(text.slice(0, 300))}`))
    }
    sock.on('data', (c: Buffer) => { data = Buffer.concat([data, c]); parse(false) })
    sock.on('error', (err: NodeJS.ErrnoException) => { if (data.length === 0) finish(err) })
    sock.on('close', () => { parse(true) })
    sock.write(bytes)
  })
}

const auth = (): Record<string, string> => ({ authorization: `Bearer ${svc.token}` })
const host = (): string => `127.0.0.1:${svc.port}`
const command = (name: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> =>
  http(`/api/commands/${name}`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json', ...headers }, body })

function assertWellFormed (c: Case, a: Answer): void {
  const where = `${c.label} → ${a.status} ${a.body.slice(0, 200)}`
  assert.ok(a.status < 500, `5xx for ${where}`)
  if (a.status < 400) return
  if (c.head === true) { assert.equal(a.body, '', where); return } // a HEAD answer has headers only
  assert.match(a.type, /^application\/json/, `not JSON: ${where}`)
  let body: { error?: { code?: unknown, message?: unknown } }
  try { body = JSON.parse(a.body) as typeof body } catch { assert.fail(`unparsable error body: ${where}`) }
  const code = body.error?.code
  assert.ok(isWireErrorCode(code), `unknown error code ${String(code)}: ${where}`)
  assert.equal(typeof body.error?.message, 'string', where)
  assert.ok((body.error?.message as string).length > 0, where)
  assert.equal(a.status, httpStatusFor(code as ServiceAnswerCode), `status is not the map's for ${String(code)}: ${where}`)
}

// -- the pools of hostile values --

const GARBAGE_CIDS = ['', ' ', 'not-a-cid', 'Qm', 'QmQmQm', 'bafy', 'bafy!!!!', '../x', '/ipfs/x', 'a\u0000b', '🙂', 'z'.repeat(200), 'Qm0OIl' + 'a'.repeat(40), 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzd\n', 'f01', 'mAXASI']
const NAMES = ['../x', '/abs', 'a\\b', 'a\u0000b', '.', '..', 'CON', 'nul.txt', ' ', '', 'a/b', '%2e%2e', 'x'.repeat(300), '\ud800', '模型', 'a\r\nb', 'trailing.', '\u202eexe.txt', '.hidden', 'ok-name']
const URLS = (): string[] => [
  `http://127.0.0.1:${closedPort}/\r\nX: y`, `http://127.0.0.1:${closedPort}/a b`, ` http://127.0.0.1:${closedPort}`, `http://127.0.0.1:${closedPort}\t`,
  'javascript:alert(1)', 'data:text/html,x', 'file:///etc/passwd', 'ftp://127.0.0.1/', '127.0.0.1:8080', '//127.0.0.1', 'http://', 'https://',
  'http://gw.example.com', 'https://u:p@127.0.0.1', `https://127.0.0.1:${closedPort}/?q=1`, `https://127.0.0.1:${closedPort}/#f`,
  'http://[::1', 'http://127.0.0.1:99999', '\u0000', 'x'.repeat(2049), '', `http://127.0.0.1:${closedPort}/`, `HTTP://LOCALHOST:${closedPort}/gw/`
]
const VERSIONS = ['', 'v1', '0.43', 'latest ', 'LATEST', '../v0.43.0', 'v0.43.0\n', 'v0.43.0; rm -rf /', 'v0.43.0/../../x', '🙂', 'v'.repeat(5000)]
const WRONG_TYPES: unknown[] = [0, -1, 1.5, 1e308, true, false, null, [], ['a'], {}, { a: 1 }, 'x', '']

/** Commands whose valid call would start real work (a download from the dist site, the daemon's lifecycle): sent only invalid bodies. */
const LONG = new Set(['ipfs_install', 'ipfs_start_daemon', 'ipfs_stop_daemon'])

function deep (n: number, open: string, close: string, core: string): string {
  return open.repeat(n) + core + close.repeat(n)
}

function valuesFor (cmd: string, field: string): unknown[] {
  if (field === 'cid') {
    // An absent but valid CID makes an offline kubo answer 502 for a pin (upstream has no such block): not input to fuzz.
    if (cmd === 'ipfs_pin') return [...GARBAGE_CIDS, present]
    return [...GARBAGE_CIDS, cbor, absentRaw, present]
  }
  if (field === 'url' || field === 'fallback') return URLS()
  if (field === 'version') return VERSIONS
  if (field === 'mbps') return [-1, -0.0001, 1e6 + 1, 1e308, 0, 5]
  if (field === 'kind') return ['model', 'dataset', 'Model', 'weights', '', '../x']
  if (field === 'source') return ['auto', 'daemon', 'gateway', 'AUTO', 'kubo', '']
  if (field === 'keepPin' || field === 'force') return [true, false]
  if (field === 'pin') return [true, false]
  if (field === 'codec') return ['raw', 'dag-json', 'dag-cbor', 'unixfs', 'RAW', 'dag-pb', 'zip', '']
  if (field === 'maxBytes') return [0, -1, 1, 1.5, 32 * 1024 * 1024 + 1, 1e308]
  if (field === 'base64') return ['', '=', 'YQ', 'YQ==', 'Y Q==', 'YQ==YQ==', '****', '\u0000', 'a'.repeat(4097)]
  if (field === 'json') return [null, 0, 'x', [], {}, { '/': 'not-a-cid' }, { '/': { bytes: '!!' } }, { a: { '/': present } }]
  return NAMES
}

function buildCases (): Case[] {
  const cases: Case[] = []
  for (const [name, spec] of Object.entries(COMMANDS)) {
    const props = (spec.args as { properties?: Record<string, unknown> }).properties ?? {}
    const required = (spec.args as { required?: string[] }).required ?? []
    const fields = Object.keys(props)
    const base: Record<string, unknown> = {}
    for (const f of required) base[f] = f === 'mbps' ? 0 : f === 'cid' ? GARBAGE_CIDS[2] : f === 'url' ? URLS()[0] : 'x'
    const add = (label: string, body: string | Buffer, headers?: Record<string, string>): void => {
      cases.push({ label: `${name} ${label}`, send: () => command(name, body, headers) })
    }
    // Not an object at all.
    for (const b of ['[]', '"x"', '1', 'null', 'true', '[{}]', '{', '{"a":}', '{"a":1,}', "{'a':1}", 'NaN', '\ufeff{}']) add(`body ${JSON.stringify(b)}`, b)
    // Unicode and byte-level junk.
    add('invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]))
    add('overlong UTF-8', Buffer.from([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d]))
    add('UTF-16 body', Buffer.from('{"a":1}', 'utf16le'), { 'content-type': 'application/json; charset=utf-16' })
    add('lone surrogate key', '{"\\ud800":1}')
    // Extra fields (the args are closed), including prototype keys.
    for (const k of ['extra', '__proto__', 'constructor', 'prototype', '🙂', '', 'CID']) add(`extra field ${JSON.stringify(k)}`, JSON.stringify({ ...base, [k]: 1 }))
    add('__proto__ object', `{${required.map(f => `${JSON.stringify(f)}:${JSON.stringify(base[f])},`).join('')}"__proto__":{"polluted":true}}`)
    // Missing required fields.
    for (const f of required) {
      const rest = { ...base }
      delete rest[f]
      add(`missing ${f}`, JSON.stringify(rest))
    }
    // Wrong types and hostile values per field.
    for (const f of fields) {
      for (const v of WRONG_TYPES) add(`${f} = ${JSON.stringify(v)}`, JSON.stringify({ ...base, [f]: v }))
      for (const v of valuesFor(name, f)) {
        const body = { ...base, [f]: v }
        if (LONG.has(name) && f === 'version' && v === '') continue
        add(`${f} = ${JSON.stringify(v).slice(0, 60)}`, JSON.stringify(body))
      }
      add(`${f} deeply nested`, `{"${f}":${deep(5000, '[', ']', '1')}}`)
      add(`${f} 60 KB`, JSON.stringify({ ...base, [f]: 'a'.repeat(60_000) }))
    }
    // Deeply nested and huge bodies.
    add('nested objects', deep(8000, '{"a":', '}', '1'))
    add('nested arrays', deep(30_000, '[', ']', ''))
    add('2 MB', JSON.stringify({ ...base, pad: 'x'.repeat(2 * 1024 * 1024) }))
    add('2 MB of zero bytes', Buffer.alloc(2 * 1024 * 1024))
    // Wrong content types (a body that is not JSON by its label).
    for (const t of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx', 'application/xml', '']) {
      add(`content-type ${JSON.stringify(t)}`, JSON.stringify(base), { 'content-type': t })
    }
    // Wrong methods.
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'PROPFIND']) {
      cases.push({ label: `${method} ${name}`, head: method === 'HEAD', send: () => http(`/api/commands/${name}`, { method, headers: auth() }) })
    }
    // No token, a wrong token, a malformed one.
    for (const a of ['', 'Bearer', 'Bearer ', `Basic ${svc.token}`, `Bearer ${svc.token}x`, `Bearer ${svc.token.slice(1)}`, `bearer  ${'0'.repeat(64)}`, `Bearer 🙂${svc.token}`]) {
      // On the wire: Node's client refuses to send some of these (a non-ASCII header value).
      const header = a === '' ? '' : `Authorization: ${a}\r\n`
      cases.push({ label: `${name} authorization ${JSON.stringify(a.slice(0, 12))}`, send: () => wire(Buffer.from(`POST /api/commands/${name} HTTP/1.1\r\nHost: ${host()}\r\n${header}Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`)) })
    }
    if (!LONG.has(name) && required.length === 0) add('empty body', '')
  }
  // Unknown commands and routes.
  for (const c of ['IPFS_CHECK_STATUS', '__proto__', 'constructor', 'hasOwnProperty', 'toString', 'ipfs_check_status/', 'ipfs_check_status%00', 'a'.repeat(5000)]) {
    cases.push({ label: `unknown command ${c.slice(0, 30)}`, send: () => command(c, '{}') })
  }
  // Malformed %-escapes, traversal and odd paths, with and without the token.
  const paths = ['/%ff', '/%', '/%zz', '/%E0%A4%A', '/assets/%ff.js', '/api/%ff', '/api/commands/%ff', '/health%ff', '/%00', '/a%0d%0ab',
    '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc%2fpasswd', '/assets/../../../etc/passwd', '/assets/..%5c..%5cwin.ini', '/index.html%00.js',
    '//evil.example/api/commands/ipfs_check_status', '/' + 'a'.repeat(8000), '/🙂', '/%F0%9F%99%82.js', '/api/openapi.json%20', '*']
  for (const p of paths) {
    for (const withToken of [false, true]) {
      cases.push({ label: `GET ${p.slice(0, 60)}${withToken ? ' (token)' : ''}`, send: () => wire(`GET ${p} HTTP/1.1\r\nHost: ${host()}\r\n${withToken ? `Authorization: Bearer ${svc.token}\r\n` : ''}Connection: close\r\n\r\n`) })
    }
  }
  // Malformed request lines and headers, straight onto the socket.
  const rawRequests: Array<[string, string | Buffer]> = [
    ['header without a colon', `GET /health HTTP/1.1\r\nHost: ${host()}\r\nNoColonHere\r\n\r\n`],
    ['bad header name', `GET /health HTTP/1.1\r\nHost: ${host()}\r\nBad Header: x\r\n\r\n`],
    ['NUL in a header value', `GET /health HTTP/1.1\r\nHost: ${host()}\r\nX: a\u0000b\r\n\r\n`],
    ['CR in a header value', `GET /health HTTP/1.1\r\nHost: ${host()}\r\nX: a\rb\r\n\r\n`],
    ['headers too large', `GET /health HTTP/1.1\r\nHost: ${host()}\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`],
    ['bad content-length', `POST /api/commands/ipfs_check_status HTTP/1.1\r\nHost: ${host()}\r\nContent-Length: abc\r\n\r\n`],
    ['two content-lengths', `POST /api/commands/ipfs_check_status HTTP/1.1\r\nHost: ${host()}\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`],
    ['content-length and chunked', `POST /api/commands/ipfs_check_status HTTP/1.1\r\nHost: ${host()}\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
    ['bad chunk size', `POST /api/commands/ipfs_check_status HTTP/1.1\r\nHost: ${host()}\r\nAuthorization: Bearer ${svc.token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`],
    ['obsolete line folding', `GET /health HTTP/1.1\r\nHost: ${host()}\r\nX: a\r\n b\r\n\r\n`],
    ['bad request line', 'GARBAGE\r\n\r\n'],
    ['bad method', `G@T /health HTTP/1.1\r\nHost: ${host()}\r\n\r\n`],
    ['bad version', `GET /health HTTP/9.9\r\nHost: ${host()}\r\n\r\n`],
    ['space in the target', `GET /a b HTTP/1.1\r\nHost: ${host()}\r\n\r\n`],
    ['binary junk', Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x0d, 0x0a, 0x0d, 0x0a])],
    ['HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
    ['no Host header', 'GET /health HTTP/1.1\r\nConnection: close\r\n\r\n'],
    ['a foreign Host', 'GET /health HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n'],
    ['Host with junk', `GET /health HTTP/1.1\r\nHost: 127.0.0.1:${svc.port}@evil\r\nConnection: close\r\n\r\n`],
    ['two Hosts', `GET /health HTTP/1.1\r\nHost: ${host()}\r\nHost: evil.example\r\nConnection: close\r\n\r\n`],
    ['absolute-form target that does not parse', `GET http://[::1/health HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`],
    ['absolute-form target elsewhere', `GET http://evil.example/health HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`],
    ['foreign Origin', `POST /api/commands/ipfs_check_status HTTP/1.1\r\nHost: ${host()}\r\nOrigin: https://evil.example\r\nAuthorization: Bearer ${svc.token}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`],
    ['null Origin', `POST /api/commands/ipfs_check_status HTTP/1.1\r\nHost: ${host()}\r\nOrigin: null\r\nAuthorization: Bearer ${svc.token}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`]
    // Not here: a body shorter than its content-length. The server then waits for the rest (Node's
    // requestTimeout, 300 s) — a slow sender, not malformed input; no answer is the right one meanwhile.
  ]
  for (const [label, bytes] of rawRequests) cases.push({ label: `raw: ${label}`, send: () => wire(bytes) })
  return cases
}

/** An answer within `ms`, or a failure naming the case (a hung request must not hang the suite). */
async function withTimeout<T> (p: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms to ${label}`)), ms) })
  try { return await Promise.race([p, late]) } finally { clearTimeout(timer) }
}

function shuffle<T> (items: T[], rand: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    ;[items[i], items[j]] = [items[j] as T, items[i] as T]
  }
  return items
}

before(async () => {
  closedPort = await freePort() // nothing listens there: every dist or gateway request is refused at once
  h = await makeTestHome([
    `dist_url = "http://127.0.0.1:${closedPort}"`,
    'pin_timeout_seconds = 5',
    'auto_pin = false'
  ].join('\n'))
  await h.manager.start()
  const uiDir = join(h.home, 'ui')
  await mkdir(join(uiDir, 'assets'), { recursive: true })
  await writeFile(join(uiDir, 'index.html'), '<html><head></head><body>ui</body></html>')
  await writeFile(join(uiDir, 'assets', 'app.js'), 'export {}')
  svc = await startService({ home: h.home, port: 0, env: h.env, uiDir })
  present = (await ipfs(h.config.paths.ipfsRepo, ['add', '-Q', '--raw-leaves', '--pin=false'], Buffer.from('fuzz fixture'))).toString().trim()
  cbor = CID.create(1, 0x71, await sha256.digest(new TextEncoder().encode('not unixfs'))).toString()
  absentRaw = CID.create(1, 0x55, await sha256.digest(new TextEncoder().encode('nowhere'))).toString()
})
after(async () => {
  await svc?.close()
  await h?.cleanup()
})

describe('service fuzz', () => {
  test('hundreds of hostile requests: no 5xx, every 4xx a JSON error of the vocabulary, and the service still answers', async (t) => {
    const cases = shuffle(buildCases(), prng(SEED))
    assert.ok(cases.length >= 300, `only ${cases.length} cases`)
    const statuses = new Map<number, number>()
    const failures: string[] = []
    // A few at once: enough to interleave, few enough for two shared cores.
    const queue = [...cases]
    await Promise.all(Array.from({ length: 4 }, async () => {
      for (let c = queue.shift(); c != null; c = queue.shift()) {
        try {
          const a = await withTimeout(c.send(), 20_000, c.label)
          statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1)
          assertWellFormed(c, a)
        } catch (err) {
          failures.push(`${c.label}: ${(err as Error).message}`)
        }
      }
    }))
    t.diagnostic(`seed ${SEED}: ${cases.length} requests, statuses ${JSON.stringify([...statuses].sort((a, b) => a[0] - b[0]))}`)
    assert.deepEqual(failures, [], `${failures.length} of ${cases.length} cases failed`)
    // The fuzz reached past validation too: some answers were accepted, some refused by each layer.
    for (const s of [200, 400, 401, 403, 404, 405, 413, 422]) assert.ok((statuses.get(s) ?? 0) > 0, `no ${s} among ${JSON.stringify([...statuses])}`)

    const status = await http('/api/commands/ipfs_check_status', { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: '{}' })
    assert.equal(status.status, 200, status.body)
    assert.equal((JSON.parse(status.body) as { running: boolean }).running, true, 'the daemon was not stopped by the fuzz')
    assert.equal((await http('/health')).status, 200)
    // Only loopback URLs could be stored; none with a control character or space.
    const configAfter = await readFile(join(h.home, 'citrate.toml'), 'utf8')
    for (const m of configAfter.matchAll(/^(external_gateway|fallback_gateway|dist_url) = "(.*)"$/gm)) {
      const value = m[2] ?? ''
      assert.ok(value === '' || /^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?(\/[^\s\\]*)?$/.test(value), `${m[1] ?? ''} stored as ${value}`)
    }
  })

  test('a URL with CR/LF is refused naming the character, and the config is left as it was', async () => {
    const before = await readFile(join(h.home, 'citrate.toml'), 'utf8')
    const a = await command('ipfs_configure_gateway', JSON.stringify({ url: `http://127.0.0.1:${closedPort}/\r\nX: y` }))
    assert.equal(a.status, 400)
    const e = (JSON.parse(a.body) as { error: { code: string, message: string } }).error
    assert.equal(e.code, 'INVALID_ARGUMENT')
    assert.match(e.message, /^url: gateway URL .* contains a carriage return \(CR, U\+000D\) at position \d+/)
    assert.equal(await readFile(join(h.home, 'citrate.toml'), 'utf8'), before)
  })

  test('ipfs_configure_gateway with "" turns the external gateway and the fallback off', async () => {
    let a = await command('ipfs_configure_gateway', JSON.stringify({ url: `HTTP://127.0.0.1:${closedPort}/gw/`, fallback: `http://localhost:${closedPort}` }))
    assert.equal(a.status, 200, a.body)
    assert.deepEqual(JSON.parse(a.body), { external_gateway: `http://127.0.0.1:${closedPort}/gw`, fallback_gateway: `http://localhost:${closedPort}`, use_external_by_default: false })
    a = await command('ipfs_configure_gateway', JSON.stringify({ url: '', fallback: '' }))
    assert.equal(a.status, 200, a.body)
    assert.deepEqual(JSON.parse(a.body), { external_gateway: '', fallback_gateway: '', use_external_by_default: false })
    a = await command('ipfs_configure_gateway', JSON.stringify({ url: '', fallback: 'javascript:alert(1)' }))
    assert.equal(a.status, 400)
    assert.match(a.body, /fallback: gateway URL \\"javascript:alert\(1\)\\" must use http or https \(got javascript\)/)
  })

  test('malformed %-escapes in the path are 400 BAD_REQUEST with the JSON error body, with or without a token', async () => {
    for (const path of ['/%ff', '/assets/%ff.js', '/api/commands/%ff']) {
      for (const headers of [{}, auth()]) {
        const a = await http(path, { headers })
        assert.equal(a.status, 400, `${path}: ${a.body}`)
        assert.deepEqual(Object.keys(JSON.parse(a.body) as object), ['error'])
        assert.equal((JSON.parse(a.body) as { error: { code: string } }).error.code, 'BAD_REQUEST')
        assert.match((JSON.parse(a.body) as { error: { message: string } }).error.message, /malformed %-escape/)
      }
    }
    assert.equal((await http('/assets/app.js')).status, 200, 'a well-formed path still serves')
  })

  test('unpinning a CID that is not pinned is 404 NOT_PINNED (was a 502 from kubo); a bad pin name is 400', async () => {
    let a = await command('ipfs_unpin', JSON.stringify({ cid: absentRaw }))
    assert.equal(a.status, 404, a.body)
    assert.equal((JSON.parse(a.body) as { error: { code: string } }).error.code, 'NOT_PINNED')
    a = await command('ipfs_pin', JSON.stringify({ cid: present, name: 'a\u0000b' }))
    assert.equal(a.status, 400, a.body)
    assert.match(a.body, /pin name .* contains a control character \(U\+0000\) at position 2/)
  })

  test('an unreachable kubo dist site during ipfs_install is 502 INSTALL_DOWNLOAD_FAILED naming the URL', async () => {
    const a = await command('ipfs_install', JSON.stringify({ version: 'v0.43.0' }))
    assert.equal(a.status, 502, a.body)
    const e = (JSON.parse(a.body) as { error: { code: string, message: string } }).error
    assert.equal(e.code, 'INSTALL_DOWNLOAD_FAILED')
    assert.ok(e.message.includes(`http://127.0.0.1:${closedPort}/kubo/v0.43.0/`), e.message)
  })
})
