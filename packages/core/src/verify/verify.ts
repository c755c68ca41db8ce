/**
 * Verification at rest: re-derive the root CID from the bytes on disk, block
 * by block, with no daemon and without trusting sizes or timestamps. Interior
 * nodes (file nodes with links, folders, HAMT shards, symlinks) come from the
 * DAG index, each checked against the CID its parent names, starting at the
 * root; every leaf is rebuilt from the file's bytes at the offset the
 * verified parents give, and hashed. Blocks are checked and decoded by the
 * same ipld/ functions pull uses, so every hash function and DAG shape pull
 * accepts re-verifies here.
 */
import { lstat, open, readdir, readlink, type FileHandle } from 'node:fs/promises'
import type { Stats } from 'node:fs'
import { join } from 'node:path'
import type { CID } from 'multiformats/cid'
import { AbortedError, BlockVerificationError, ContentCorruptError, DagIndexError, InvalidDagError } from '../errors.ts'
import type { DagIndex } from '../ipld/dag-index.ts'
import { claimEntryName, decodeNode, leafMatches, symlinkTarget, type DecodedNode } from '../ipld/unixfs.ts'
import { classifySymlink } from '../ipld/symlink.ts'
import { assertSupportedCid, isIdentity, MAX_BLOCK_BYTES, verifyBlock } from '../ipld/verify-block.ts'
import { logger } from '../log.ts'

const log = logger('verify')

export type VerifyProgressEvent = { type: 'citrate:verify:bytes', bytes: number }

export interface VerifyOptions {
  signal?: AbortSignal
  onProgress?: (event: VerifyProgressEvent) => void
  progressIntervalMs?: number
  /**
   * Names at the top of a folder's content that are not part of it and are
   * neither checked nor reported as extra: a model folder's `.citrate/`
   * bookkeeping beside the model's own files.
   */
  ignoreAtRoot?: readonly string[]
}

export interface VerifyResult {
  cid: string
  bytes: number
  blocks: number
  files: number
  /** The content's symlinks that are rightly absent (pull does not write them), by path inside the content. */
  skippedSymlinks: Array<{ path: string, target: string, reason: string }>
}

type FileNode = Extract<DecodedNode, { type: 'file' }>
type FolderNode = Extract<DecodedNode, { type: 'directory' | 'hamt' }>

/** Links followed in a row before giving up (a copy of a link to a link …, or a loop). */
const MAX_LINK_DEPTH = 32
interface Entry { name: string, cid: CID }

/**
 * Proves `path` (a file, or a folder for directory CIDs) hashes to `index.root`.
 * Throws ContentCorruptError naming the file and the offset of the first bad
 * block, or a missing or extra file; DagIndexError when the index itself is damaged.
 */
export async function verifyContent (id: string, path: string, index: DagIndex, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const v = new AtRestVerifier(id, index, opts)
  await v.entry(index.root, path, '')
  v.report(true)
  log('%s: %d bytes in %d blocks, %d files verified against %s', id, v.bytes, v.blocks, v.files, index.root.toString())
  return { cid: index.root.toString(), bytes: v.bytes, blocks: v.blocks, files: v.files, skippedSymlinks: [...v.skipped.values()] }
}

class AtRestVerifier {
  bytes = 0
  blocks = 0
  files = 0
  /** Rightly absent symlinks, by path (a copy of a folder meets its links again under the same logical path). */
  readonly skipped = new Map<string, { path: string, target: string, reason: string }>()
  private lastReport = 0
  /** One leaf at a time is read into this: leaves are at most MAX_BLOCK_BYTES, and none is kept. */
  private readonly buf = Buffer.allocUnsafe(MAX_BLOCK_BYTES)

  private readonly id: string
  private readonly index: DagIndex
  private readonly opts: VerifyOptions

  constructor (id: string, index: DagIndex, opts: VerifyOptions) {
    this.id = id
    this.index = index
    this.opts = opts
  }

  report (force = false): void {
    const now = Date.now()
    if (!force && now - this.lastReport < (this.opts.progressIntervalMs ?? 200)) return
    this.lastReport = now
    this.opts.onProgress?.({ type: 'citrate:verify:bytes', bytes: this.bytes })
  }

  /**
   * Verifies the entry `cid` at `p`. `rel` is its path inside the content:
   * where it sits in the DAG (for a copy standing in for a symlink, where its
   * target sits), which is what its symlinks are read from, and for messages.
   */
  async entry (cid: CID, p: string, rel: string, depth = 0): Promise<void> {
    const st = await lstat(p).catch(() => undefined)
    const block = this.interior(cid)
    const node = block != null ? decodeNode(cid, block) : undefined
    if (node?.type === 'symlink') {
      await this.symlink(node.target, p, rel, st, depth)
      return
    }
    if (st == null) throw this.corrupt(p, 0, 'it is missing')
    if (node != null && node.type !== 'file') {
      await this.folder(p, rel, st, this.entriesOf(cid, node, rel), depth)
      return
    }
    if (!st.isFile()) throw this.corrupt(p, 0, 'expected a file')
    const fh = await open(p, 'r')
    try {
      const size = (await fh.stat()).size
      const total = node != null ? await this.fileNode(cid, node, fh, p, 0) : await this.leaf(cid, fh, p, 0, size)
      if (size > total) throw this.corrupt(p, total, `${size - total} extra bytes after the end of the content`)
      this.files++
    } finally {
      await fh.close()
    }
  }

  /**
   * A symlink of the content, judged as pull judged it (ipld/symlink.ts): one
   * pointing outside must be absent (pull never writes it); one inside is the
   * same link, or a copy of its target (where links cannot be made) proved
   * against the target's CID, or absent where pull could not copy its target.
   */
  private async symlink (target: string, p: string, rel: string, st: Stats | undefined, depth: number): Promise<void> {
    const v = classifySymlink(rel, target)
    if (!v.inside) {
      if (st != null) throw this.corrupt(p, 0, `the content's symlink here points outside the folder (${v.reason}) and is never written, but something is here`)
      this.skipped.set(rel, { path: rel, target, reason: v.reason })
      return
    }
    if (st?.isSymbolicLink() === true) {
      if (await readlink(p) !== target) throw this.corrupt(p, 0, 'the symlink target differs')
      return
    }
    if (depth >= MAX_LINK_DEPTH) throw this.corrupt(p, 0, `symlinks lead through more than ${MAX_LINK_DEPTH} links (a loop?)`)
    const holdsLink = v.resolved.every((n, i) => rel.split('/')[i] === n)
    const to = holdsLink ? undefined : this.lookup(v.resolved, depth + 1)
    if (st == null) {
      // Pull could not copy it either: a missing target, or a folder holding the link.
      if (to == null) { this.skipped.set(rel, { path: rel, target, reason: 'its target could not be copied (missing from the folder, or a folder holding the link)' }); return }
      throw this.corrupt(p, 0, 'it is missing')
    }
    if (to == null) throw this.corrupt(p, 0, `a copy of the symlink's target ${JSON.stringify(target)}, which is not in the content`)
    await this.entry(to.cid, p, to.rel, depth + 1)
  }

  /** The CID at `segments` from the root, through folders and inside symlinks; undefined if there is none. */
  private lookup (segments: string[], depth: number): { cid: CID, rel: string } | undefined {
    if (depth >= MAX_LINK_DEPTH) return undefined
    let cid = this.index.root
    const at: string[] = []
    for (const name of segments) {
      const block = this.interior(cid)
      if (block == null) return undefined
      const node = decodeNode(cid, block)
      if (node.type === 'symlink') {
        const v = classifySymlink(at.join('/'), node.target)
        const to = v.inside ? this.lookup(v.resolved, depth + 1) : undefined
        if (to == null) return undefined
        return this.lookup([...to.rel.split('/').filter(s => s !== ''), ...segments.slice(at.length)], depth + 1)
      }
      if (node.type === 'file') return undefined
      const next = this.entriesOf(cid, node, at.join('/')).find(e => e.name === name)
      if (next == null) return undefined
      cid = next.cid
      at.push(name)
    }
    return { cid, rel: at.join('/') }
  }

  /**
   * The folder's entries, whether it is one node or a HAMT: every shard is
   * an index block checked against its CID, and names go through the same
   * checks pull applies (portable, unique per folder, case-insensitively).
   */
  private entriesOf (cid: CID, node: FolderNode, rel: string): Entry[] {
    const names = new Set<string>()
    const entries: Entry[] = []
    const take = (list: Entry[]): void => {
      for (const e of list) { claimEntryName(names, e.name, rel); entries.push(e) }
    }
    take(node.entries)
    const shards = node.type === 'hamt' ? [...node.shards] : []
    for (let shard = shards.pop(); shard != null; shard = shards.pop()) {
      const bytes = this.interior(shard)
      if (bytes == null) throw this.indexDamaged(`it lacks HAMT shard ${shard.toString()} of ${cid.toString()}`)
      const sub = decodeNode(shard, bytes)
      if (sub.type !== 'hamt') throw new InvalidDagError(`${shard.toString()} is a ${sub.type} where a HAMT shard was expected (${rel || 'root'})`)
      take(sub.entries)
      shards.push(...sub.shards)
    }
    // A HAMT lists entries in hash order; verify (and report) in name order, as a folder listing would.
    return entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  }

  /** Missing and extra files are reported before any bytes are hashed: they are cheap to find and say the most. */
  private async folder (p: string, rel: string, st: Stats, entries: Entry[], depth: number): Promise<void> {
    if (!st.isDirectory()) throw this.corrupt(p, 0, 'expected a folder')
    const onDisk = new Set(await readdir(p))
    if (rel === '') for (const name of this.opts.ignoreAtRoot ?? []) onDisk.delete(name)
    const expected = new Set(entries.map(e => e.name))
    // A symlink may be absent (pull does not write one pointing outside): entry() decides.
    for (const e of entries) if (!onDisk.has(e.name) && !this.isSymlink(e.cid)) throw this.corrupt(join(p, e.name), 0, 'it is missing')
    for (const name of [...onDisk].sort()) if (!expected.has(name)) throw this.corrupt(join(p, name), 0, 'it is not part of the content')
    for (const e of entries) await this.entry(e.cid, join(p, e.name), rel === '' ? e.name : `${rel}/${e.name}`, depth)
  }

  private isSymlink (cid: CID): boolean {
    const block = isIdentity(cid) ? cid.multihash.digest : this.index.blocks.get(cid.toString())
    return block != null && symlinkTarget(cid, block) !== undefined
  }

  /** Verifies the part of a file under `cid` starting at `offset`; returns its length. `size` is what the verified parent declares. */
  private async filePart (cid: CID, fh: FileHandle, p: string, offset: number, size: number): Promise<number> {
    const block = this.interior(cid)
    if (block == null) return await this.leaf(cid, fh, p, offset, size)
    const node = decodeNode(cid, block)
    if (node.type !== 'file') throw this.corrupt(p, offset, `expected a file node at ${cid.toString()}, found a ${node.type}`)
    if (node.fileSize !== size) throw new InvalidDagError(`${cid.toString()} holds ${node.fileSize} bytes where its parent declares ${size} (${p})`)
    return await this.fileNode(cid, node, fh, p, offset)
  }

  private async fileNode (cid: CID, node: FileNode, fh: FileHandle, p: string, offset: number): Promise<number> {
    let pos = offset
    if (node.data.byteLength > 0) {
      // Bytes held in the node itself (trickle DAGs, inlined leaves): it is verified, so compare directly.
      const got = await this.read(fh, pos, node.data.byteLength)
      if (got.byteLength < node.data.byteLength || !got.equals(node.data)) {
        throw this.corrupt(p, pos, `bytes ${pos}–${pos + node.data.byteLength - 1} differ from node ${cid.toString()}`)
      }
      pos += got.byteLength
      this.bytes += got.byteLength
    }
    for (const child of node.children) pos += await this.filePart(child.cid, fh, p, pos, child.size)
    return pos - offset
  }

  /** A leaf: its bytes are the file's, `length` of them from `offset`, rebuilt into a block and hashed. */
  private async leaf (cid: CID, fh: FileHandle, p: string, offset: number, length: number): Promise<number> {
    if (this.opts.signal?.aborted === true) throw new AbortedError('verify')
    if (length > MAX_BLOCK_BYTES) {
      // No leaf is that big: either the file has bytes past its one-block content, or the index lost an interior node.
      throw this.corrupt(p, offset, `${length} bytes from offset ${offset} where ${cid.toString()} is a single block of at most ${MAX_BLOCK_BYTES} bytes`)
    }
    const data = await this.read(fh, offset, length)
    if (data.byteLength < length) throw this.corrupt(p, offset + data.byteLength, `the file is truncated (expected ${length} bytes from offset ${offset}, found ${data.byteLength})`)
    assertSupportedCid(cid)
    if (!leafMatches(cid, data)) throw this.corrupt(p, offset, `block ${cid.toString()} (bytes ${offset}–${offset + length - 1}) does not hash to its CID`)
    this.blocks++
    this.bytes += length
    this.report()
    return length
  }

  /**
   * The block of `cid` when it is not file data on disk: from the index,
   * checked against its CID with pull's verifyBlock, or the CID itself for an
   * identity CID. Undefined means a leaf.
   */
  private interior (cid: CID): Uint8Array | undefined {
    if (this.opts.signal?.aborted === true) throw new AbortedError('verify')
    assertSupportedCid(cid)
    const bytes = isIdentity(cid) ? cid.multihash.digest : this.index.blocks.get(cid.toString())
    if (bytes == null) return undefined
    try {
      verifyBlock(cid, bytes)
    } catch (err) {
      if (err instanceof BlockVerificationError) throw this.indexDamaged(`block ${cid.toString()} does not hash to its CID`)
      throw err
    }
    this.blocks++
    return bytes
  }

  private async read (fh: FileHandle, offset: number, length: number): Promise<Buffer> {
    const { bytesRead } = await fh.read(this.buf, 0, length, offset)
    return this.buf.subarray(0, bytesRead)
  }

  private corrupt (p: string, offset: number, detail: string): ContentCorruptError {
    return new ContentCorruptError(this.id, p, offset, detail)
  }

  private indexDamaged (detail: string): DagIndexError {
    return new DagIndexError('DAG_INDEX_CORRUPT', `the DAG index of model ${this.id} is damaged: ${detail}; re-download or re-publish to rebuild it`)
  }
}
