/**
 * Decoding one verified block into what a DAG walk needs: file bytes and
 * child offsets, directory entries, or HAMT shard entries. Anything a walk
 * could get wrong (unknown types, sizes that do not add up, unsafe names) is
 * refused here with a typed error. Pull (fetch/) and `models verify`
 * (verify/) both read DAGs through these functions, so they accept and
 * refuse the same things.
 */
import { createHash } from 'node:crypto'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import type { CID } from 'multiformats/cid'
import { InvalidDagError, UnsafeNameError, UnsupportedContentError } from '../errors.ts'
import { CODEC_DAG_PB, CODEC_RAW, verifyBlock } from './verify-block.ts'

/** murmur3-x64-64, the only HAMT hash function UnixFS uses. */
const HAMT_HASH_MURMUR3 = 0x22n

export type DecodedNode =
  /** `tsize` is the link's declared size of the child's whole subtree of blocks (a hint only: it is never trusted). */
  | { type: 'file', data: Uint8Array, children: Array<{ cid: CID, size: number, tsize?: number }>, fileSize: number }
  | { type: 'directory', entries: Array<{ name: string, cid: CID }> }
  /**
   * A HAMT shard: its entries and sub-shards, each with the slot (`prefix`: the
   * link name's first `pad` hex digits) a name's hash selects (ipld/resolve-path.ts).
   */
  | { type: 'hamt', entries: Array<{ name: string, cid: CID, prefix: string }>, shards: CID[], shardLinks: Array<{ prefix: string, cid: CID }>, fanout: number, pad: number }
  /** A symlink: its target as stored (whether it may be written is ipld/symlink.ts's decision). */
  | { type: 'symlink', target: string }

export function decodeNode (cid: CID, bytes: Uint8Array): DecodedNode {
  if (cid.code === CODEC_RAW) return { type: 'file', data: bytes, children: [], fileSize: bytes.byteLength }
  if (cid.code !== CODEC_DAG_PB) throw new UnsupportedContentError(`codec 0x${cid.code.toString(16)} (${cid.toString()})`)
  let pb: dagPb.PBNode
  let fs: UnixFS
  try {
    pb = dagPb.decode(bytes)
    if (pb.Data == null) throw new Error('no UnixFS data')
    fs = UnixFS.unmarshal(pb.Data)
  } catch (err) {
    throw new UnsupportedContentError(`a dag-pb node that is not UnixFS (${cid.toString()}: ${(err as Error).message})`)
  }
  switch (fs.type) {
    case 'file':
    case 'raw': {
      const data = fs.data ?? new Uint8Array(0)
      if (pb.Links.length !== fs.blockSizes.length) {
        throw new InvalidDagError(`file node ${cid.toString()} has ${pb.Links.length} links but ${fs.blockSizes.length} block sizes`)
      }
      const children = pb.Links.map((l, i) => ({ cid: l.Hash, size: toSafeNumber(fs.blockSizes[i] ?? 0n, cid), tsize: l.Tsize }))
      return { type: 'file', data, children, fileSize: toSafeNumber(fs.fileSize(), cid) }
    }
    case 'directory': {
      const entries = pb.Links.map(l => ({ name: checkEntryName(l.Name ?? ''), cid: l.Hash }))
      return { type: 'directory', entries }
    }
    case 'hamt-sharded-directory': {
      const hashType = readHashType(pb.Data ?? new Uint8Array(0))
      if (hashType !== HAMT_HASH_MURMUR3) throw new UnsupportedContentError(`HAMT hash function ${hashType == null ? '(none)' : `0x${hashType.toString(16)}`} in ${cid.toString()}`)
      const fanout = Number(fs.fanout ?? 0n)
      if (fanout < 2 || fanout > 4096 || (fanout & (fanout - 1)) !== 0) throw new InvalidDagError(`HAMT node ${cid.toString()} has fanout ${fanout}`)
      const pad = (fanout - 1).toString(16).length
      const entries: Array<{ name: string, cid: CID, prefix: string }> = []
      const shardLinks: Array<{ prefix: string, cid: CID }> = []
      for (const l of pb.Links) {
        const name = l.Name ?? ''
        if (name.length < pad || !/^[0-9A-F]+$/i.test(name.slice(0, pad))) throw new InvalidDagError(`HAMT node ${cid.toString()} has a malformed link name ${JSON.stringify(name)}`)
        const prefix = name.slice(0, pad).toUpperCase()
        if (name.length === pad) shardLinks.push({ prefix, cid: l.Hash })
        else entries.push({ name: checkEntryName(name.slice(pad)), cid: l.Hash, prefix })
      }
      return { type: 'hamt', entries, shards: shardLinks.map(s => s.cid), shardLinks, fanout, pad }
    }
    case 'symlink':
      if (pb.Links.length > 0) throw new InvalidDagError(`symlink node ${cid.toString()} has links`)
      return { type: 'symlink', target: new TextDecoder().decode(fs.data ?? new Uint8Array(0)) }
    default:
      throw new UnsupportedContentError(`UnixFS ${fs.type} node (${cid.toString()})`)
  }
}

/**
 * The target of a UnixFS symlink node, or undefined for any other block
 * (without decodeNode's checks: a block that is no UnixFS at all is simply not a symlink).
 */
export function symlinkTarget (cid: CID, bytes: Uint8Array): string | undefined {
  if (cid.code !== CODEC_DAG_PB) return undefined
  try {
    const pb = dagPb.decode(bytes)
    const fs = pb.Data != null ? UnixFS.unmarshal(pb.Data) : undefined
    return fs?.type === 'symlink' ? new TextDecoder().decode(fs.data) : undefined
  } catch {
    return undefined // not UnixFS at all: decodeNode reports that with its own error
  }
}

/**
 * The UnixFS `hashType` field (5). ipfs-unixfs's unmarshal drops it, so it is
 * read straight from the protobuf: a HAMT hashed with anything but murmur3
 * would put entries in buckets we do not expect.
 */
function readHashType (data: Uint8Array): bigint | undefined {
  let i = 0
  const varint = (): bigint => {
    let v = 0n
    for (let shift = 0n; i < data.length; shift += 7n) {
      const b = data[i++] as number
      v |= BigInt(b & 0x7f) << shift
      if ((b & 0x80) === 0) return v
    }
    throw new InvalidDagError('truncated UnixFS protobuf')
  }
  let found: bigint | undefined
  while (i < data.length) {
    const tag = varint()
    const field = tag >> 3n
    const wire = tag & 7n
    if (wire === 0n) {
      const v = varint()
      if (field === 5n) found = v
    } else if (wire === 2n) {
      const length = Number(varint()) // read before adding: `i += varint()` would add to the stale i
      i += length
    } else {
      throw new InvalidDagError(`unexpected protobuf wire type ${wire} in UnixFS data`)
    }
  }
  return found
}

/**
 * The block of a leaf rebuilt from its file bytes, if it hashes to `cid`: raw
 * leaves are the bytes themselves, dag-pb leaves are re-encoded the two ways
 * kubo writes them (UnixFS File, or legacy Raw). Undefined when no encoding matches.
 */
export function leafBlockFromData (cid: CID, data: Uint8Array): Uint8Array | undefined {
  const candidates = cid.code === CODEC_RAW
    ? [data]
    : (['file', 'raw'] as const).map(type => dagPb.encode({ Data: new UnixFS({ type, data }).marshal(), Links: [] }))
  for (const bytes of candidates) {
    try {
      verifyBlock(cid, bytes)
      return bytes
    } catch { /* try the next encoding */ }
  }
  return undefined
}

/**
 * True when `data` is the content of the leaf `cid`: the leafBlockFromData
 * check without building the block. For the common case (a sha2-256 dag-pb
 * leaf as kubo writes it: UnixFS File with Data and filesize) the protobuf
 * framing around the bytes is hashed in three parts, so a leaf is proved
 * where it sits, with no copy; any other shape takes leafBlockFromData.
 * Only a speed path: a framing guess that does not match just falls through.
 */
export function leafMatches (cid: CID, data: Uint8Array): boolean {
  if (cid.code === CODEC_DAG_PB && cid.multihash.code === SHA2_256 && data.byteLength > 0) {
    const { prefix, suffix } = framingOf(data.byteLength)
    const digest = createHash('sha256').update(prefix).update(data).update(suffix).digest()
    if (digest.equals(cid.multihash.digest)) return true
  } else if (cid.code === CODEC_RAW) {
    try { verifyBlock(cid, data); return true } catch { return false }
  }
  return leafBlockFromData(cid, data) != null
}

const SHA2_256 = 0x12

/** The bytes around a leaf's data, by data length (a file's leaves mostly share one length). */
let lastFraming: { n: number, prefix: Buffer, suffix: Buffer } | undefined
function framingOf (n: number): { prefix: Buffer, suffix: Buffer } {
  if (lastFraming?.n === n) return lastFraming
  // UnixFS: 08 02 (Type=File) 12 <n> <data> 18 <n> (filesize); dag-pb: 0a <len(UnixFS)> <UnixFS>.
  const nv = uvarint(n)
  const unixfsLength = 2 + 1 + nv.length + n + 1 + nv.length
  lastFraming = { n, prefix: Buffer.from([0x0a, ...uvarint(unixfsLength), 0x08, 0x02, 0x12, ...nv]), suffix: Buffer.from([0x18, ...nv]) }
  return lastFraming
}

function uvarint (n: number): number[] {
  const out: number[] = []
  while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128) }
  out.push(n)
  return out
}

function toSafeNumber (n: bigint, cid: CID): number {
  if (n < 0n || n > BigInt(Number.MAX_SAFE_INTEGER)) throw new InvalidDagError(`node ${cid.toString()} declares an impossible size ${n}`)
  return Number(n)
}

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i

/**
 * A directory entry name must name exactly one entry inside its folder on
 * every OS we ship to: no separators, no `.`/`..`, no NUL or control
 * characters, nothing Windows would reinterpret. Anything else is refused.
 */
export function checkEntryName (name: string): string {
  if (name === '') throw new UnsafeNameError(name, 'empty name')
  if (name === '.' || name === '..') throw new UnsafeNameError(name, 'a relative path component')
  if (/[/\\]/.test(name)) throw new UnsafeNameError(name, 'contains a path separator')
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) throw new UnsafeNameError(name, 'contains a control character')
  // A lone UTF-16 surrogate (JSON can carry one) has no UTF-8 form: on disk it would become U+FFFD, another name.
  if (/[\uD800-\uDFFF]/u.test(name)) throw new UnsafeNameError(name, 'not well-formed Unicode (a lone surrogate)')
  if (/[<>:"|?*]/.test(name) || /[. ]$/.test(name) || WINDOWS_RESERVED.test(name)) throw new UnsafeNameError(name, 'not a portable file name')
  if (Buffer.byteLength(name) > 255) throw new UnsafeNameError(name, 'longer than 255 bytes')
  return name
}

/**
 * Records `name` in `names` (one set per folder), refusing a second entry of
 * the same name. On case-insensitive disks two names differing only in case
 * would land in one file, so they count as the same.
 */
export function claimEntryName (names: Set<string>, name: string, folder: string): void {
  const key = name.toLowerCase()
  if (names.has(key)) throw new UnsafeNameError(name, `a second entry with this name in ${folder === '' ? 'the root folder' : folder}`)
  names.add(key)
}

/** Model / dataset ids become folder names: a stricter, predictable alphabet. */
export function checkId (id: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(id) || id.includes('..')) {
    throw new UnsafeNameError(id, 'an id must be 1–128 characters of letters, digits, ".", "_" or "-", starting with a letter or digit')
  }
  return checkEntryName(id)
}
