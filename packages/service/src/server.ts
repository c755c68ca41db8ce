/**
 * `citrate-ipfs serve`: the loopback HTTP service. Routes:
 *   GET  /health                  liveness, no token
 *   GET  /login?code=…            a one-time login code → session cookie, 303 to / (security.ts)
 *   POST /api/login-codes         a fresh login URL, for a caller already authorized
 *   POST /api/commands/<name>     a seed command, JSON args → JSON result or {error:{code,message}}
 *   GET  /api/events              Server-Sent Events (progress, status)
 *   GET  /api/openapi.json        the API description
 *   GET  /*                       the UI (no auth, no token in it: its API calls carry the session cookie)
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { extname, join } from 'node:path'
import { Ajv, type ValidateFunction } from 'ajv'
import type { ServiceEvent } from '@citrate-ipfs/client'
import { DaemonManager, logger } from '@citrate-ipfs/core'
import { COMMAND_SCHEMAS, type CommandSchema } from '@citrate-ipfs/contract'
import { COMMANDS, configLoader, isCommandName, type CommandContext } from './commands.ts'
import { httpStatusFor, toAnswerError, type ServiceAnswerCode } from './errors.ts'
import { EventHub } from './events.ts'
import { uiFromDir, type UiFiles } from './ui-files.ts'
import { Downloads } from './downloads.ts'
import { NodeSampler } from './node-stats.ts'
import { openApiDocument } from './openapi.ts'
import { BrowserSignIn, isAllowedHost, isTokenValid, loadOrCreateToken, LOGIN_CODES_PATH, LOGIN_PATH, ownOrigins, TAURI_ORIGINS } from './security.ts'

/** One line per request (`DEBUG=citrate:service`, or the CLI's --verbose): method, path without the query, status, how it was authorized. Never a token, cookie or login code. */
const log = logger('service')

export interface ServiceOptions {
  /** CITRATE_HOME (default: $CITRATE_HOME or ~/.citrate). */
  home?: string
  configFile?: string
  /** 0 picks a free port. */
  port?: number
  /** Built UI assets to serve; none: API only. */
  uiDir?: string
  /** The UI's files from elsewhere (the single executable's embedded assets); wins over uiDir. */
  ui?: UiFiles
  /** Further origins allowed to call the API (the UI's own and Tauri's are always allowed). */
  allowedOrigins?: string[]
  env?: NodeJS.ProcessEnv
  /** How long a login code is good for (default 2 minutes; tests make it tiny). */
  loginCodeTtlMs?: number
  /**
   * On close, also stop the kubo daemon this service started (with `ipfs_start_daemon`;
   * not one it adopted). For an app's sidecar, whose kubo should live as long as the app.
   */
  stopDaemonOnClose?: boolean
}

export interface RunningService {
  url: string
  port: number
  token: string
  tokenFile: string
  /** A fresh one-time URL that signs a browser in (good once, for `loginCodeTtlMs`). */
  newLoginUrl: () => string
  server: Server
  /** Broadcast an event to connected clients. */
  emit: (event: ServiceEvent) => void
  close: () => Promise<void>
}

const MAX_BODY = 64 * 1024

export async function startService (opts: ServiceOptions = {}): Promise<RunningService> {
  const env = opts.env ?? process.env
  const config = configLoader({ home: opts.home, configFile: opts.configFile, env })
  const home = (await config()).paths.home
  const token = await loadOrCreateToken(home)
  const signIn = new BrowserSignIn(token, { loginCodeTtlMs: opts.loginCodeTtlMs })
  const hub = new EventHub()
  const downloads = new Downloads((e) => hub.emit(e))
  const ctx: CommandContext = { config, emit: (e) => hub.emit(e), env, downloads, node: new NodeSampler(), daemon: { startedHere: false } }
  const ajv = new Ajv({ allErrors: false, strict: false })
  const validators = new Map<string, ValidateFunction>()
  for (const [name, spec] of Object.entries(COMMANDS)) validators.set(name, ajv.compile(spec.args))
  const openapi = JSON.stringify(openApiDocument())
  let port = opts.port ?? 0
  const ui = opts.ui ?? (opts.uiDir != null ? uiFromDir(opts.uiDir) : undefined)
  let allowedOrigins = new Set<string>()

  // No Host header is refused by the Host check below with a JSON answer (Node's own check answers a bare 400).
  const server = createServer({ requireHostHeader: false }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      const e = toAnswerError(err)
      sendError(res, e.code, e.message)
    })
  })
  server.on('clientError', answerUnparsable)

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('x-content-type-options', 'nosniff')
    if (log.enabled) logRequest(req, res)
    if (!isAllowedHost(req.headers.host, port)) {
      sendError(res, 'FORBIDDEN_HOST', `Host "${req.headers.host ?? ''}" is not this service; use http://127.0.0.1:${port}`)
      return
    }
    const origin = req.headers.origin
    if (origin != null && !allowedOrigins.has(origin)) {
      sendError(res, 'FORBIDDEN_ORIGIN', `origin ${origin} may not use this service`)
      return
    }
    if (origin != null) {
      res.setHeader('access-control-allow-origin', origin)
      res.setHeader('vary', 'Origin')
    }
    const target = parseTarget(req.url)
    if (typeof target === 'string') {
      sendError(res, 'BAD_REQUEST', target)
      return
    }
    const { url, path } = target
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': 'authorization, content-type', 'access-control-max-age': '600' }).end()
      return
    }
    if (url.pathname === '/health' && req.method === 'GET') {
      sendJson(res, 200, { ok: true })
      return
    }
    if (url.pathname === LOGIN_PATH) {
      signIn.handleLogin(req, res, url)
      return
    }
    if (url.pathname.startsWith('/api/')) {
      const refusal = signIn.authorize(req)
      if (refusal != null) {
        sendError(res, refusal.code, refusal.message)
        return
      }
      if (url.pathname === LOGIN_CODES_PATH && req.method === 'POST') {
        sendJson(res, 201, signIn.mintLoginUrl())
        return
      }
      await handleApi(req, res, url)
      return
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      await serveUi(req, res, url, path)
      return
    }
    sendError(res, 'NOT_FOUND', `no route ${req.method ?? ''} ${url.pathname}`)
  }

  async function handleApi (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (url.pathname === '/api/openapi.json' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(openapi)
      return
    }
    if (url.pathname === '/api/events' && req.method === 'GET') {
      hub.attach(res)
      return
    }
    const m = /^\/api\/commands\/([a-z_]+)$/.exec(url.pathname)
    if (m?.[1] == null) {
      sendError(res, 'NOT_FOUND', `no route ${req.method ?? ''} ${url.pathname}`)
      return
    }
    const name = m[1]
    if (req.method !== 'POST') {
      sendError(res, 'METHOD_NOT_ALLOWED', `${name} is called with POST`)
      return
    }
    if (!isCommandName(name)) {
      sendError(res, 'UNKNOWN_COMMAND', `unknown command ${name}`)
      return
    }
    const body = await readBody(req, (COMMAND_SCHEMAS[name] as CommandSchema).maxBodyBytes ?? MAX_BODY)
    if (typeof body === 'string') {
      sendError(res, body === 'too large' ? 'BODY_TOO_LARGE' : 'INVALID_JSON', `${name}: request body ${body}`)
      return
    }
    const validate = validators.get(name)
    if (validate != null && !validate(body)) {
      const e = validate.errors?.[0]
      const where = e?.instancePath === '' ? 'arguments' : `argument ${e?.instancePath.slice(1) ?? ''}`
      const extra = e?.params != null && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''
      sendError(res, 'INVALID_ARGUMENT', `${name}: ${where} ${e?.message ?? 'invalid'}${extra}`)
      return
    }
    try {
      const spec = COMMANDS[name] as { run: (c: CommandContext, a: unknown) => Promise<unknown> }
      sendJson(res, 200, await spec.run(ctx, body))
    } catch (err) {
      const e = toAnswerError(err)
      sendError(res, e.code, e.message)
    }
  }

  async function serveUi (req: IncomingMessage, res: ServerResponse, url: URL, path: string): Promise<void> {
    if (ui == null) {
      sendError(res, 'NO_UI', 'this service was started without a UI')
      return
    }
    let file = path
    if (file === '/' || !/\.[a-z0-9]+$/i.test(file)) file = '/index.html' // client-side routes
    const data = await ui.read(file)
    if (data == null) {
      sendError(res, 'NOT_FOUND', `${url.pathname} not found`)
      return
    }
    const headers: Record<string, string> = { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' }
    if (file.endsWith('index.html')) {
      headers['cache-control'] = 'no-store'
      headers['content-security-policy'] = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"
      headers['x-frame-options'] = 'DENY'
    }
    res.writeHead(200, headers)
    res.end(req.method === 'HEAD' ? undefined : data)
  }

  function logRequest (req: IncomingMessage, res: ServerResponse): void {
    const began = Date.now()
    const path = (req.url ?? '/').split('?')[0] ?? '/'
    const auth = isTokenValid(req.headers.authorization, token)
      ? 'valid bearer token'
      : req.headers.authorization != null ? 'invalid authorization' : req.headers.cookie != null ? 'cookie' : 'no credentials'
    res.once('finish', () => { log('%s %s %d (%s, origin %s) %d ms', req.method ?? '?', path, res.statusCode, auth, req.headers.origin ?? 'none', Date.now() - began) })
  }

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject)
    // Loopback only: never reachable from another machine.
    server.listen({ port, host: '127.0.0.1' }, () => resolveListen())
  })
  const addr = server.address()
  port = typeof addr === 'object' && addr != null ? addr.port : port
  allowedOrigins = new Set([...ownOrigins(port), ...TAURI_ORIGINS, ...(opts.allowedOrigins ?? [])])
  signIn.port = port
  const heartbeat = setInterval(() => hub.heartbeat(), 15_000)
  heartbeat.unref()
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    token,
    tokenFile: join(home, 'run', 'service-token'),
    newLoginUrl: () => signIn.mintLoginUrl().loginUrl,
    server,
    emit: (e) => hub.emit(e),
    close: async () => {
      clearInterval(heartbeat)
      downloads.shutdown()
      hub.closeAll()
      server.closeAllConnections()
      await new Promise<void>(r => server.close(() => r()))
      if (opts.stopDaemonOnClose === true && ctx.daemon.startedHere) {
        log('stopping the kubo daemon this service started')
        await new DaemonManager({ config: await config(), env }).stop()
        ctx.daemon.startedHere = false
      }
    }
  }
}

/**
 * The request target as a URL and its decoded path, or why it is not one: a
 * malformed %-escape (`/%ff`), a NUL or control character once decoded, an
 * absolute-form target that does not parse. Each is the caller's mistake (400), never a 500.
 */
function parseTarget (target: string | undefined): { url: URL, path: string } | string {
  const text = target ?? '/'
  let url: URL
  try {
    url = new URL(text, 'http://127.0.0.1')
  } catch {
    return `request target ${JSON.stringify(text)} is not a valid URL path`
  }
  let path: string
  try {
    path = decodeURIComponent(url.pathname)
  } catch {
    return `request path ${url.pathname} has a malformed %-escape (a % must be followed by two hex digits forming UTF-8)`
  }
  // eslint-disable-next-line no-control-regex
  const control = /[\u0000-\u001f\u007f]/.exec(path)
  if (control != null) return `request path ${url.pathname} decodes to a control character (U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')})`
  return { url, path }
}

/**
 * A request Node's HTTP parser refused (malformed request line or headers,
 * headers too large): answered with the same JSON error body as every other
 * error, then the connection is closed, since the stream can no longer be trusted.
 */
function answerUnparsable (err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || err.code === 'ECONNRESET') { socket.destroy(); return }
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') { socket.end('HTTP/1.1 408 Request Timeout\r\nconnection: close\r\n\r\n'); return } // as Node does
  const why = err.code === 'HPE_HEADER_OVERFLOW'
    ? 'request headers are too large'
    : `malformed HTTP request: ${err.message}`
  const body = JSON.stringify({ error: { code: 'BAD_REQUEST', message: why } })
  const status = httpStatusFor('BAD_REQUEST')
  socket.end(`HTTP/1.1 ${status} Bad Request\r\ncontent-type: application/json\r\ncache-control: no-store\r\nx-content-type-options: nosniff\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
}

function readBody (req: IncomingMessage, maxBody: number): Promise<unknown> {
  return new Promise((resolveBody) => {
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    req.on('data', (c: Buffer) => {
      if (done) return // past the limit: drain and drop, then answer 413
      size += c.length
      if (size > maxBody) { done = true; chunks.length = 0; resolveBody('too large'); return }
      chunks.push(c)
    })
    req.on('end', () => {
      if (done) return
      const text = Buffer.concat(chunks).toString('utf8')
      if (text.trim() === '') { resolveBody({}); return }
      const type = req.headers['content-type'] ?? ''
      if (!/^application\/json\b/i.test(type)) { resolveBody('must be application/json'); return }
      try {
        const v = JSON.parse(text) as unknown
        resolveBody(v != null && typeof v === 'object' && !Array.isArray(v) ? v : 'must be a JSON object')
      } catch {
        resolveBody('is not valid JSON')
      }
    })
    req.on('error', () => { if (!done) { done = true; resolveBody('could not be read') } })
  })
}

function sendJson (res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body))
}

/** Every error answer takes its status from the one map, so a code cannot get two statuses in two places. */
function sendError (res: ServerResponse, code: ServiceAnswerCode, message: string): void {
  if (res.headersSent) { res.end(); return }
  sendJson(res, httpStatusFor(code), { error: { code, message } })
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2'
}
