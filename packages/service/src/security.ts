/**
 * What keeps other programs and web pages out of the service:
 * - it listens on 127.0.0.1 only;
 * - a Host header that is not a loopback name is refused (DNS rebinding);
 * - an Origin not on the allowlist is refused (other web pages);
 * - every API request carries the per-install token (the Tauri app, scripts), compared in
 *   constant time, or the session cookie of a browser that signed in through a one-time
 *   login URL (the served UI: see `BrowserSignIn`);
 * - no answer to a request without either ever contains the token.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { chmod, mkdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { writeFileAtomic } from '@citrate-ipfs/core'
import { httpStatusFor, type ServiceAnswerCode } from './errors.ts'

/** Origins of the Citrate app's Tauri webview (macOS/Linux and Windows forms). */
export const TAURI_ORIGINS = ['tauri://localhost', 'http://tauri.localhost', 'https://tauri.localhost']

export function tokenPath (home: string): string {
  return join(home, 'run', 'service-token')
}

/** Reads the per-install token, creating it (mode 0600) on first use. */
export async function loadOrCreateToken (home: string): Promise<string> {
  const path = tokenPath(home)
  try {
    const existing = (await readFile(path, 'utf8')).trim()
    if (/^[0-9a-f]{64}$/.test(existing)) {
      await chmod(path, 0o600)
      return existing
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const token = randomBytes(32).toString('hex')
  await mkdir(dirname(path), { recursive: true })
  await writeFileAtomic(path, token + '\n', { mode: 0o600 })
  return token
}

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]'])

/** Host must name this machine and this port; anything else is a rebinding attempt. */
export function isAllowedHost (host: string | undefined, port: number): boolean {
  if (host == null) return false
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host.trim().toLowerCase())
  if (m == null) return false
  const name = m[1] ?? ''
  const p = m[2] == null ? 80 : Number(m[2])
  return LOOPBACK_NAMES.has(name) && p === port
}

export function ownOrigins (port: number): string[] {
  return [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`]
}

export function isTokenValid (header: string | undefined, token: string): boolean {
  if (header == null) return false
  const m = /^Bearer\s+(\S+)$/i.exec(header)
  if (m?.[1] == null) return false
  const a = Buffer.from(m[1])
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Where a browser exchanges a login code for a session cookie. */
export const LOGIN_PATH = '/login'
/** POST here (authenticated) for a fresh login URL: how `citrate-ipfs login` reaches a running service. */
export const LOGIN_CODES_PATH = '/api/login-codes'

/**
 * Two minutes: long enough to click a link in a terminal or wait for a
 * browser to start, short enough that a code left in scrollback or shell
 * history is dead by the time anyone else reads it.
 */
export const DEFAULT_LOGIN_CODE_TTL_MS = 120_000
/** Outstanding codes and live sessions kept; the oldest is dropped past this (nobody signs in 64 browsers). */
const MAX_ENTRIES = 64

export interface SignInOptions {
  /** How long a login code is good for (default 2 minutes). */
  loginCodeTtlMs?: number
  now?: () => number
}

/** Why a request is refused, in the service's own vocabulary. */
export interface Refusal { code: ServiceAnswerCode, message: string }

export interface LoginUrl { loginUrl: string, expiresAt: string }

/**
 * Browser sign-in, the way Jupyter does it: `serve` prints (and `--open`
 * opens) a one-time URL `/login?code=…`; the code is 256 random bits, good once
 * and for two minutes, kept only in memory. Redeeming it sets a session cookie
 * (a random id, never the API token; HttpOnly, SameSite=Strict, host-only) and
 * redirects to `/`, so the code leaves the address bar.
 *
 * Secrets are looked up by their SHA-256, so a lookup's timing says nothing
 * about the secret being guessed. Cookies do not isolate ports: a browser sends
 * ours to any server on 127.0.0.1 it visits, so a request riding on the cookie
 * must also prove it comes from our own page (Origin, Sec-Fetch-Site), while
 * the Host check (above) keeps rebound names out.
 */
export class BrowserSignIn {
  /** The port we listen on; set once listening (it names the cookie and the URLs). */
  port = 0
  private readonly token: string
  private readonly ttlMs: number
  private readonly now: () => number
  /** sha256(code) → expiry (ms since the epoch). */
  private readonly codes = new Map<string, number>()
  /** sha256(session id), oldest first. */
  private readonly sessions = new Set<string>()

  constructor (token: string, opts: SignInOptions = {}) {
    this.token = token
    this.ttlMs = opts.loginCodeTtlMs ?? DEFAULT_LOGIN_CODE_TTL_MS
    this.now = opts.now ?? Date.now
  }

  /** One cookie per port, so two services on one machine do not sign each other out. */
  get cookieName (): string {
    return `citrate_ipfs_session_${this.port}`
  }

  /** A fresh one-time login URL. */
  mintLoginUrl (): LoginUrl {
    this.dropExpiredCodes()
    const code = randomBytes(32).toString('base64url')
    const expires = this.now() + this.ttlMs
    this.codes.set(digest(code), expires)
    dropOldest(this.codes)
    return { loginUrl: `http://127.0.0.1:${this.port}${LOGIN_PATH}?code=${code}`, expiresAt: new Date(expires).toISOString() }
  }

  /**
   * May this API request go ahead? A valid bearer token always may (the Tauri
   * app, scripts: a web page cannot send one without a CORS grant). A session
   * cookie may only from our own page: an Origin, when sent (and always on a
   * POST, which browsers mark), must be the service's own, and a browser's
   * Sec-Fetch-Site must say same-origin (or none, for an address typed in), which a page on another port of
   * 127.0.0.1 (same site, so SameSite lets the cookie through) cannot forge.
   */
  authorize (req: IncomingMessage): Refusal | undefined {
    if (isTokenValid(req.headers.authorization, this.token)) return undefined
    if (!this.hasSession(req)) {
      return { code: 'UNAUTHORIZED', message: `not signed in: open the login URL \`citrate-ipfs serve\` printed (a new one: \`citrate-ipfs login --port ${this.port}\`), or send Authorization: Bearer <token from $CITRATE_HOME/run/service-token>` }
    }
    const origin = req.headers.origin
    const own = ownOrigins(this.port)
    if (origin != null ? !own.includes(origin) : !(req.method === 'GET' || req.method === 'HEAD')) {
      return { code: 'FORBIDDEN_ORIGIN', message: `a signed-in browser may call the API only from ${own[0] ?? ''} itself (Origin: ${origin ?? 'none'})` }
    }
    // 'none' is the person typing the address (a GET of /api/openapi.json, say): no page sent them.
    const site = req.headers['sec-fetch-site']
    if (site != null && site !== 'same-origin' && !(site === 'none' && req.method === 'GET')) {
      return { code: 'FORBIDDEN_ORIGIN', message: `a signed-in browser may call the API only from the service's own page (Sec-Fetch-Site: ${String(site)})` }
    }
    return undefined
  }

  /**
   * `GET /login?code=…`: a good code → a new session cookie and 303 to `/`;
   * a used, expired or unknown code → 401 and how to get a new link (a
   * browser that is already signed in is just sent on to `/`, so clicking
   * the printed link twice does no harm).
   */
  handleLogin (req: IncomingMessage, res: ServerResponse, url: URL): void {
    res.setHeader('cache-control', 'no-store')
    res.setHeader('referrer-policy', 'no-referrer')
    if (req.method !== 'GET') {
      answer(res, req, 'METHOD_NOT_ALLOWED', 'the login URL is opened with GET')
      return
    }
    const code = url.searchParams.get('code')
    if (code != null && this.redeem(code)) {
      const id = randomBytes(32).toString('base64url')
      this.sessions.add(digest(id))
      dropOldest(this.sessions)
      // No Max-Age: the cookie lasts until the browser closes; no Secure: plain http on loopback.
      res.writeHead(303, { location: '/', 'set-cookie': `${this.cookieName}=${id}; HttpOnly; SameSite=Strict; Path=/` }).end()
      return
    }
    if (this.hasSession(req)) {
      res.writeHead(303, { location: '/' }).end()
      return
    }
    answer(res, req, 'UNAUTHORIZED', 'This login link has expired or was already used (a link works once, for two minutes). ' +
      `Get a new one: \`citrate-ipfs login --port ${this.port}\` prints it for the running service, and \`citrate-ipfs serve\` prints one when it starts.`)
  }

  /** Good once: a code is forgotten on its first use, good or late. */
  private redeem (code: string): boolean {
    const key = digest(code)
    const expires = this.codes.get(key)
    if (expires == null) return false
    this.codes.delete(key)
    return this.now() < expires
  }

  private hasSession (req: IncomingMessage): boolean {
    if (this.sessions.size === 0) return false
    const prefix = `${this.cookieName}=`
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const c = part.trim()
      if (c.startsWith(prefix) && this.sessions.has(digest(c.slice(prefix.length)))) return true
    }
    return false
  }

  private dropExpiredCodes (): void {
    const now = this.now()
    for (const [key, expires] of this.codes) if (expires <= now) this.codes.delete(key)
  }
}

function digest (secret: string): string {
  return createHash('sha256').update(secret).digest('base64url')
}

function dropOldest (entries: Map<string, unknown> | Set<string>): void {
  while (entries.size > MAX_ENTRIES) {
    const oldest = entries.keys().next().value
    if (oldest == null) return
    entries.delete(oldest)
  }
}

/** A refusal a browser shows as a short page, and anything else reads as the usual `{error}` JSON. */
function answer (res: ServerResponse, req: IncomingMessage, code: ServiceAnswerCode, message: string): void {
  const status = httpStatusFor(code)
  if (/\btext\/html\b/.test(req.headers.accept ?? '')) {
    const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Citrate · IPFS: sign in</title></head>` +
      `<body><h1>Sign in to the Citrate IPFS service</h1><p>${escapeHtml(message)}</p></body></html>`
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'" }).end(page)
    return
  }
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code, message } }))
}

function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`)
}
