/**
 * Resolving a content path (`<cid>/a/b.gguf`) to the CID of its target
 * through verified folder nodes, reading only the blocks on the way: one per
 * plain folder, and for a HAMT-sharded folder only the shards the name hashes
 * to (murmur3-x64-64 of the name, `log2(fanout)` bits per level, most
 * significant first — what kubo's go-unixfs and js hamt-sharding do), never
 * the whole listing. Every block is checked against its CID before it is read.
 */
import { murmur364 } from '@multiformats/murmur3'
import type { CID } from 'multiformats/cid'
import { InvalidDagError, PathNotFoundError, UnsupportedContentError } from '../errors.ts'
import { decodeNode } from './unixfs.ts'
import { verifyBlock } from './verify-block.ts'

export interface ResolvedPath {
  /** The target's CID. Its block is not read here: the pull that follows fetches it once, as its root. */
  cid: CID
}

/** The verified bytes of a block (from the caller's sources). */
export type BlockGetter = (cid: CID) => Promise<Uint8Array>

/** Deeper than any folder tree a model repository has; bounds a hostile path's work. */
const MAX_SEGMENTS = 64

export interface ResolveContentPathOptions {
  /** How `root` is named in messages (a walk that starts part-way down a longer path names it from its own root). */
  rootLabel?: string
}

/** Walks `segments` from `root`; throws PathNotFoundError naming the first segment with no entry. */
export async function resolveContentPath (root: CID, segments: readonly string[], getBlock: BlockGetter, opts: ResolveContentPathOptions = {}): Promise<ResolvedPath> {
  if (segments.length > MAX_SEGMENTS) throw new UnsupportedContentError(`a path of ${segments.length} segments (at most ${MAX_SEGMENTS})`)
  let cid = root
  for (let i = 0; i < segments.length; i++) {
    const here = [opts.rootLabel ?? root.toString(), ...segments.slice(0, i)].join('/')
    const bytes = await verified(cid, getBlock)
    const node = decodeNode(cid, bytes)
    if (node.type === 'symlink') throw new UnsupportedContentError(`${here} is a symlink (to ${JSON.stringify(node.target)}); a path must name a file or folder, so name its target instead`)
    const name = segments[i] as string
    if (node.type === 'file') throw new PathNotFoundError(here, name, 'it is a file, not a folder')
    const next = node.type === 'directory'
      ? node.entries.find(e => e.name === name)?.cid
      : await findInHamt(cid, node, name, getBlock)
    if (next == null) throw new PathNotFoundError(here, name, 'the folder has no entry of that name')
    cid = next
  }
  return { cid }
}

type HamtNode = Extract<ReturnType<typeof decodeNode>, { type: 'hamt' }>

/** The entry `name` of a HAMT folder, following only the shards its hash selects. */
async function findInHamt (root: CID, rootNode: HamtNode, name: string, getBlock: BlockGetter): Promise<CID | undefined> {
  const hash = (await murmur364.digest(new TextEncoder().encode(name))).digest
  let node = rootNode
  let shardCid = root
  let bit = 0
  while (true) {
    const bits = Math.log2(node.fanout)
    if (bit + bits > hash.byteLength * 8) {
      // 64 bits cover 8 levels of kubo's 256-way shards (2^64 names); deeper needs rehashing, which no real folder reaches.
      throw new UnsupportedContentError(`a HAMT folder deeper than its 64-bit hash (${shardCid.toString()})`)
    }
    const slot = readBits(hash, bit, bits)
    bit += bits
    const prefix = slot.toString(16).toUpperCase().padStart(node.pad, '0')
    const entry = node.entries.find(e => e.prefix === prefix)
    if (entry != null) return entry.name === name ? entry.cid : undefined
    const shard = node.shardLinks.find(s => s.prefix === prefix)
    if (shard == null) return undefined
    const bytes = await verified(shard.cid, getBlock)
    const sub = decodeNode(shard.cid, bytes)
    if (sub.type !== 'hamt') throw new InvalidDagError(`${shard.cid.toString()} is a ${sub.type} where a HAMT shard was expected`)
    node = sub
    shardCid = shard.cid
  }
}

/** `n` bits of `bytes` from bit `from`, most significant bit of each byte first. */
function readBits (bytes: Uint8Array, from: number, n: number): number {
  let v = 0
  for (let i = from; i < from + n; i++) v = (v << 1) | (((bytes[i >> 3] as number) >> (7 - (i & 7))) & 1)
  return v
}

async function verified (cid: CID, getBlock: BlockGetter): Promise<Uint8Array> {
  const bytes = await getBlock(cid)
  verifyBlock(cid, bytes)
  return bytes
}
