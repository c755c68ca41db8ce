/**
 * What `get` accepts: `<cid>`, `<cid>/path/inside`, `/ipfs/<cid>/path` or
 * `ipfs://<cid>/path`. The path is a list of segments walked through the
 * verified nodes (UnixFS folders, dag-cbor / dag-json fields and links);
 * `.`, `..` and empty segments are refused rather than normalised, so a
 * path never means something other than what it spells.
 */
import type { CID } from 'multiformats/cid'
import { InvalidArgumentError } from '../errors.ts'
import { parseCid } from '../ipld/cid.ts'

export interface ObjectRef {
  root: CID
  /** Path segments below the root, percent-decoded; empty for the root itself. */
  segments: string[]
}

export function parseObjectRef (input: string): ObjectRef {
  let text = input.trim()
  if (text.startsWith('ipfs://')) text = text.slice('ipfs://'.length)
  else if (text.startsWith('/ipfs/')) text = text.slice('/ipfs/'.length)
  // One trailing slash is how folders are often written; more, or slashes inside, are empty segments.
  if (text.endsWith('/')) text = text.slice(0, -1)
  const [first = '', ...rest] = text.split('/')
  const root = parseCid(first)
  const segments = rest.map((raw, i) => {
    let seg: string
    try {
      seg = decodeURIComponent(raw)
    } catch {
      throw new InvalidArgumentError(`path segment ${i + 1} of ${JSON.stringify(input)} is not valid percent-encoding`)
    }
    if (seg === '') throw new InvalidArgumentError(`the path in ${JSON.stringify(input)} has an empty segment (write <cid>/a/b)`)
    if (seg === '.' || seg === '..') throw new InvalidArgumentError(`the path in ${JSON.stringify(input)} contains "${seg}": name each segment from the root (e.g. <cid>/folder/file.json)`)
    if (seg.includes('/')) throw new InvalidArgumentError(`path segment ${JSON.stringify(seg)} contains an encoded "/"`)
    // The path walker reads `\/` as an escaped slash, so a name ending in a backslash would join the next one.
    if (seg.endsWith('\\')) throw new InvalidArgumentError(`path segment ${JSON.stringify(seg)} ends with a backslash`)
    return seg
  })
  return { root, segments }
}
