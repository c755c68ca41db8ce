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
}

type FileNode = Extract<DecodedNode, { type: 'file' }>
type FolderNode = Extract<DecodedNode, { type: 'directory' | 'hamt' }>
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
  return { cid: index.root.toString(), bytes: v.bytes, blocks: v.blocks, files: v.files }
}

class AtRestVerifier {
  bytes = 0
  blocks = 0
  files = 0
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

  /** Verifies the entry `cid` at `p` (`rel` is its path inside the content, for messages). */
  async entry (cid: CID, p: string, rel: string): Promise<void> {
    const st = await lstat(p).catch(() => undefined)
    if (st == null) throw this.corrupt(p, 0, 'it is missing')
    const block = this.interior(cid)
    if (block != null) {
      const target = symlinkTarget(cid, block)
      if (target !== undefined) {
        if (!st.isSymbolicLink() || await readlink(p) !== target) throw this.corrupt(p, 0, 'the symlink target differs')
        return
      }
    }
    const node = block != null ? decodeNode(cid, block) : undefined
    if (node != null && node.type !== 'file') {
      await this.folder(p, rel, st, this.entriesOf(cid, node, rel))
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
  private async folder (p: string, rel: string, st: Stats, entries: Entry[]): Promise<void> {
    if (!st.isDirectory()) throw this.corrupt(p, 0, 'expected a folder')
    const onDisk = new Set(await readdir(p))
    if (rel === '') for (const name of this.opts.ignoreAtRoot ?? []) onDisk.delete(name)
    const expected = new Set(entries.map(e => e.name))
    for (const e of entries) if (!onDisk.has(e.name)) throw this.corrupt(join(p, e.name), 0, 'it is missing')
    for (const name of [...onDisk].sort()) if (!expected.has(name)) throw this.corrupt(join(p, name), 0, 'it is not part of the content')
    for (const e of entries) await this.entry(e.cid, join(p, e.name), rel === '' ? e.name : `${rel}/${e.name}`)
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
