/**
 * What users paste to name content: a CID, a CID with a path inside its
 * folder, an `/ipfs/` path, an `ipfs://` URL, or a link copied from a path
 * gateway (`https://host/ipfs/<cid>/path`) or a subdomain gateway
 * (`https://<cid>.ipfs.host/path`). All of them become one CID and the names
 * of the entries to walk from it. Every segment must name exactly one folder
 * entry (`..`, `.`, empty segments, separators and control characters are
 * refused, never normalized away), and anything unrecognized is refused with
 * what was pasted and an example that works — never a multibase library's
 * message.
 */
import { CID } from 'multiformats/cid'
import { base32 } from 'multiformats/bases/base32'
import { base36 } from 'multiformats/bases/base36'
import { base58btc } from 'multiformats/bases/base58'
import { InvalidContentPathError, UnsafeNameError } from '../errors.ts'
import { checkEntryName } from './unixfs.ts'

export interface ContentPath {
  cid: CID
  /** Entry names from the CID down to the target, in order; empty for the CID itself. */
  segments: string[]
}

/** The multibases CIDs are written in where users copy them from (kubo, gateways, subdomain labels). */
const CID_BASES = base32.decoder.or(base36.decoder).or(base58btc.decoder)

/** Longer than any URL a gateway hands out with a sane path; junk beyond this is not read. */
const MAX_INPUT_LENGTH = 4096

/** `<cid>/a/b` — how a content path is written back (messages, results). */
export function formatContentPath (p: ContentPath): string {
  return [p.cid.toString(), ...p.segments].join('/')
}

export interface ParseContentPathOptions {
  /**
   * Segments may be field names of dag-cbor / dag-json nodes (`<cid>/dc:title`), not only
   * folder entries: the portable-file-name check is skipped; `..`, `.`, empty segments,
   * separators and control characters are still refused.
   */
  fieldNames?: boolean
}

/** Parses what a user pasted; throws InvalidContentPathError (code INVALID_CID) naming it. */
export function parseContentPath (input: string, opts: ParseContentPathOptions = {}): ContentPath {
  const names = opts.fieldNames === true ? 'fields' : 'entries'
  if (typeof input !== 'string') throw new InvalidContentPathError(String(input), 'it is not text')
  const text = input.trim()
  if (text === '') throw new InvalidContentPathError(input, 'it is empty')
  if (text.length > MAX_INPUT_LENGTH) throw new InvalidContentPathError(`${text.slice(0, 60)}…`, `it is longer than ${MAX_INPUT_LENGTH} characters`)
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase()
  if (scheme === 'ipfs') return fromIpfsUrl(input, text, names)
  if (scheme === 'http' || scheme === 'https') return fromGatewayUrl(input, text, names)
  if (scheme === 'ipns' || /^\/?ipns\//i.test(text)) throw new InvalidContentPathError(input, 'IPNS names are not supported (they can change); paste the /ipfs/ CID they point to')
  if (/^[a-z]:[\\/]/i.test(text) || text.startsWith('\\') || text.startsWith('~')) throw new InvalidContentPathError(input, 'it looks like a file on this computer, not IPFS content')
  if (scheme != null) throw new InvalidContentPathError(input, `"${scheme}:" links are not IPFS content`)
  if (text.startsWith('/')) {
    const m = /^\/ipfs\/(.*)$/i.exec(text)
    if (m == null) throw new InvalidContentPathError(input, 'a path must start with /ipfs/<cid>')
    return fromCidAndPath(input, m[1] as string, false, names)
  }
  return fromCidAndPath(input, text, false, names)
}

/** `ipfs://<cid>/path` (URL-encoded, as browsers and apps write them); query and fragment are ignored. */
function fromIpfsUrl (input: string, text: string, names: SegmentNames): ContentPath {
  const rest = stripQuery(text.replace(/^ipfs:(\/\/)?/i, ''))
  return fromCidAndPath(input, rest, true, names)
}

/** A path gateway (`https://host/ipfs/<cid>/path`) or subdomain gateway (`https://<cid>.ipfs.host/path`) link. */
function fromGatewayUrl (input: string, text: string, names: SegmentNames): ContentPath {
  // The raw path is read from the text, not from URL.pathname: WHATWG URL parsing resolves `..` and `%2e%2e` away,
  // and a refused `..` must not silently become another file.
  const m = /^https?:\/\/([^/?#]*)([^?#]*)/i.exec(text)
  const authority = m?.[1] ?? ''
  const rawPath = m?.[2] ?? ''
  let host: string
  try {
    host = new URL(`http://${authority}`).hostname
  } catch {
    throw new InvalidContentPathError(input, 'it is not a valid web address')
  }
  if (host === '') throw new InvalidContentPathError(input, 'the address has no host')
  const labels = host.split('.')
  const pm = /^\/ipfs\/(.*)$/i.exec(rawPath)
  // `<cid>.ipfs.<host>`; a path gateway on a host like `gateway.ipfs.io` has /ipfs/ in its path and no CID label.
  if (labels.length >= 3 && (labels[1] === 'ipfs' || labels[1] === 'ipns') && (pm == null || looksLikeCidLabel(labels[0] as string))) {
    if (labels[1] === 'ipns') throw new InvalidContentPathError(input, 'IPNS names are not supported (they can change); paste the /ipfs/ CID they point to')
    const cid = parseCidText(input, labels[0] as string, true)
    return { cid, segments: pathSegments(input, rawPath.replace(/^\/+/, ''), true, names) }
  }
  if (pm == null) {
    if (/^\/ipns\//i.test(rawPath)) throw new InvalidContentPathError(input, 'IPNS names are not supported (they can change); paste the /ipfs/ CID they point to')
    throw new InvalidContentPathError(input, 'this web address holds no /ipfs/<cid> path and no <cid>.ipfs. subdomain')
  }
  return fromCidAndPath(input, pm[1] as string, true, names)
}

function looksLikeCidLabel (label: string): boolean {
  try {
    CID.parse(label, CID_BASES)
    return true
  } catch {
    return false
  }
}

/** What a segment may name: a folder entry (a portable file name) or also a field of an IPLD node. */
type SegmentNames = 'entries' | 'fields'

function fromCidAndPath (input: string, rest: string, encoded: boolean, names: SegmentNames): ContentPath {
  const slash = rest.indexOf('/')
  const cidText = slash === -1 ? rest : rest.slice(0, slash)
  const cid = parseCidText(input, encoded ? decodeSegment(input, cidText) : cidText, false)
  return { cid, segments: slash === -1 ? [] : pathSegments(input, rest.slice(slash + 1), encoded, names) }
}

function stripQuery (s: string): string {
  const i = s.search(/[?#]/)
  return i === -1 ? s : s.slice(0, i)
}

/**
 * The entry names of a path after its CID. One trailing slash is allowed (a
 * folder's gateway link ends with one); any other empty segment is refused.
 */
function pathSegments (input: string, path: string, encoded: boolean, names: SegmentNames): string[] {
  if (path === '') return []
  const parts = path.split('/')
  if (parts[parts.length - 1] === '') parts.pop()
  return parts.map((raw, i) => {
    if (raw.includes('\\')) throw new InvalidContentPathError(input, `segment ${i + 1} ("${raw}") contains a backslash; separate folders with "/"`)
    const name = encoded ? decodeSegment(input, raw) : raw
    if (name === '') throw new InvalidContentPathError(input, 'it has an empty path segment ("//")')
    if (name === '.' || name === '..') throw new InvalidContentPathError(input, `"${name}" segments are not allowed: name each folder on the way down`)
    if (name.includes('/') || name.includes('\\')) throw new InvalidContentPathError(input, `segment ${i + 1} ("${raw}") encodes a path separator`)
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f]/.test(name)) throw new InvalidContentPathError(input, `segment ${i + 1} contains a control character (NUL, newline …)`)
    if (names === 'fields') return name
    try {
      return checkEntryName(name)
    } catch (err) {
      // No entry of a folder we download can have a name that fails this check, so the path could never resolve.
      if (err instanceof UnsafeNameError) throw new InvalidContentPathError(input, `"${name}" cannot be a file or folder name here (${err.reason})`)
      throw err
    }
  })
}

function decodeSegment (input: string, s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    throw new InvalidContentPathError(input, `"${s}" has a broken %-escape`)
  }
}

/** A CID in the bases users meet; `subdomain` for a host label (case-folded, so never CIDv0). */
function parseCidText (input: string, text: string, subdomain: boolean): CID {
  if (text === '') throw new InvalidContentPathError(input, 'it has no CID')
  if (subdomain && /^qm/i.test(text)) throw new InvalidContentPathError(input, 'a subdomain gateway label cannot hold a CIDv0 (Qm…); use the gateway\'s /ipfs/Qm… form')
  try {
    return CID.parse(text, CID_BASES)
  } catch {
    throw new InvalidContentPathError(input, cidShapeHint(text))
  }
}

/** Why `text` is not a CID, in plain words. */
function cidShapeHint (text: string): string {
  const shown = text.length > 70 ? `${text.slice(0, 70)}…` : text
  if (/^Qm/.test(text)) return `"${shown}" looks like a CIDv0 but is damaged (a CIDv0 is 46 characters: Qm and 44 more)`
  if (/^(bafy|bafk|bafz)/i.test(text)) return `"${shown}" looks like a CIDv1 but is damaged (check that it was copied whole)`
  return `"${shown}" is not a CID (CIDs start with Qm… or bafy…)`
}
