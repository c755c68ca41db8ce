/**
 * The one strict reading of a URL a user gives us (gateways, the kubo dist
 * site). WHATWG's parser is forgiving in ways that hurt here: it silently
 * drops tabs, CR and LF from anywhere in the input and trims leading and
 * trailing spaces and control characters, so `http://127.0.0.1:1/\r\nX: y`
 * parses as `http://127.0.0.1:1/X:%20y` and would be stored mangled. We
 * refuse such input instead, naming the character and where it is, and
 * store only the parser's normalised form (`URL.href`), so what is written
 * to citrate.toml is exactly what will be requested.
 */

/** Why a URL was refused: the message names what was wrong, for the caller to prefix with the key or argument. */
export class UrlError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'UrlError'
  }
}

/** C0 and C1 controls, DEL, and every Unicode space or line/paragraph separator. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const FORBIDDEN = /[\u0000-\u0020\u007f-\u00a0\u1680\u180e\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]/u

function describe (ch: string): string {
  const code = ch.codePointAt(0) ?? 0
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
  if (ch === ' ') return 'a space'
  if (ch === '\r') return 'a carriage return (CR, U+000D)'
  if (ch === '\n') return 'a line feed (LF, U+000A)'
  if (ch === '\t') return 'a tab (U+0009)'
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return `a control character (${hex})`
  return `whitespace (${hex})`
}

/**
 * Parses an http(s) URL strictly: no control characters or whitespace
 * anywhere, a scheme, http or https only, no credentials. Returns the parsed
 * URL; its `href` is the normalised text to store.
 */
export function parseHttpUrl (input: string): URL {
  if (input === '') throw new UrlError('is empty')
  const bad = FORBIDDEN.exec(input)
  if (bad != null) {
    throw new UrlError(`contains ${describe(bad[0])} at position ${bad.index + 1}; a URL cannot hold whitespace or control characters (percent-encode them, e.g. %20)`)
  }
  if (!/^[a-z][a-z0-9+.-]*:/i.test(input)) {
    throw new UrlError(`has no scheme; write it in full, e.g. https://${input.replace(/^\/+/, '')}`)
  }
  let url: URL
  try {
    url = new URL(input)
  } catch {
    throw new UrlError('is not a valid URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UrlError(`must use http or https (got ${url.protocol.replace(/:$/, '')})`)
  if (url.hostname === '') throw new UrlError('has no host')
  if (url.username !== '' || url.password !== '') throw new UrlError('must not contain credentials (user:password@)')
  return url
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1'])

export function isLoopbackHost (hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(hostname) || hostname.toLowerCase().endsWith('.localhost')
}

/**
 * A gateway URL: http(s) only, https required except on loopback (a gateway
 * is untrusted, but its traffic should still not be readable on the wire),
 * no credentials, query or fragment. Returns the normalised URL without a trailing slash.
 */
export function normalizeGatewayUrl (input: string): string {
  const url = parseHttpUrl(input)
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) throw new UrlError('must use https unless it is on this machine (localhost / 127.0.0.1)')
  if (url.search !== '' || url.hash !== '' || input.includes('?') || input.includes('#')) throw new UrlError('must not contain a query or fragment')
  return url.href.replace(/\/+$/, '')
}

/** A base URL of a site we download from (the kubo dist site or a mirror): http(s), no query or fragment, no trailing slash. */
export function normalizeBaseUrl (input: string): string {
  const url = parseHttpUrl(input)
  if (url.search !== '' || url.hash !== '' || input.includes('?') || input.includes('#')) throw new UrlError('must not contain a query or fragment')
  return url.href.replace(/\/+$/, '')
}
