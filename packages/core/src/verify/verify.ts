/**
 * Verification at rest: re-derive the root CID from the bytes on disk, block
 * by block, with no daemon and without trusting sizes or timestamps. Internal
 * nodes come from the DAG index (each checked against the CID its parent
 * names, starting at the root); every leaf is rebuilt from the file's bytes at
 * the offset the verified parents give, and hashed.
 */
import { createHash } from 'node:crypto'
import { lstat, open, readlink, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { UnixFS } from 'ipfs-unixfs'
import { AbortedError, ContentCorruptError, DagIndexError, VerifyUnsupportedError } from '../errors.ts'
import type { DagIndex } from '../ipld/dag-index.ts'

export type VerifyProgressEvent = { type: 'citrate:verify:bytes', bytes: number }

export interface VerifyOptions {
  signal?: AbortSignal
  onProgress?: (event: VerifyProgressEvent) => void
  progressIntervalMs?: number
}

export interface VerifyResult {
  cid: string
  bytes: number
  blocks: number
  files: number
}

/**
 * Proves `path` (a file, or a folder for directory CIDs) hashes to `index.root`.
 * Throws ContentCorruptError naming the file and the offset of the first bad block.
 */
export async function verifyContent (id: string, path: string, index: DagIndex, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const state = { bytes: 0, blocks: 0, files: 0, lastReport: 0 }
  const interval = opts.progressIntervalMs ?? 200
  const report = (force = false): void => {
    const now = Date.now()
    if (!force && now - state.lastReport < interval) return
    state.lastReport = now
    opts.onProgress?.({ type: 'citrate:verify:bytes', bytes: state.bytes })
  }
  const corrupt = (p: string, offset: number, detail: string): ContentCorruptError => new ContentCorruptError(id, p, offset, detail)

  /** Checks an index block against the CID its parent names. */
  const indexBlock = (cid: CID): Uint8Array | undefined => {
    const bytes = index.blocks.get(cid.toString())
    if (bytes == null) return undefined
    if (!hashMatches(cid, bytes)) throw new DagIndexError('DAG_INDEX_CORRUPT', `the DAG index of model ${id} is damaged (block ${cid.toString()}); re-download or re-publish to rebuild it`)
    state.blocks++
    return bytes
  }

  const verifyFileDag = async (cid: CID, fh: FileHandle, p: string, offset: number, length: number | undefined): Promise<number> => {
    if (opts.signal?.aborted === true) throw new AbortedError('verify')
    const internal = indexBlock(cid)
    if (internal == null) {
      // A leaf: its length is fixed by the verified parent, or (a one-block file) by the file itself.
      const len = length ?? ((await fh.stat()).size - offset)
      const buf = Buffer.alloc(len)
      const { bytesRead } = await fh.read(buf, 0, len, offset)
      if (bytesRead < len) throw corrupt(p, offset + bytesRead, `the file is truncated (expected ${len} bytes from offset ${offset}, found ${bytesRead})`)
      if (!leafMatches(cid, buf)) throw corrupt(p, offset, `block ${cid.toString()} (bytes ${offset}–${offset + len - 1}) does not hash to its CID`)
      state.blocks++
      state.bytes += len
      report()
      return len
    }
    const node = dagPb.decode(internal)
    const fs = node.Data != null ? UnixFS.unmarshal(node.Data) : undefined
    if (fs == null || (fs.type !== 'file' && fs.type !== 'raw')) throw corrupt(p, offset, `expected a file node at ${cid.toString()}, found ${fs?.type ?? 'no UnixFS data'}`)
    let pos = offset
    if (fs.data != null && fs.data.byteLength > 0) {
      // Data held in an internal node (trickle DAGs): compare with the file directly.
      const buf = Buffer.alloc(fs.data.byteLength)
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos)
      if (bytesRead < buf.length || !buf.equals(fs.data)) throw corrupt(p, pos, `bytes ${pos}–${pos + buf.length - 1} differ from node ${cid.toString()}`)
      pos += buf.length
      state.bytes += buf.length
    }
    for (let i = 0; i < node.Links.length; i++) {
      const link = node.Links[i]
      const size = fs.blockSizes[i]
      if (link == null || size == null) throw corrupt(p, pos, `node ${cid.toString()} has links without block sizes`)
      pos += await verifyFileDag(link.Hash, fh, p, pos, Number(size))
    }
    return pos - offset
  }

  const verifyEntry = async (cid: CID, p: string): Promise<void> => {
    const st = await lstat(p).catch(() => undefined)
    if (st == null) throw corrupt(p, 0, 'it is missing')
    const internal = index.blocks.has(cid.toString()) ? indexBlock(cid) : undefined
    const fs = internal != null ? unixfsOf(internal) : undefined
    if (fs?.type === 'directory') {
      if (!st.isDirectory()) throw corrupt(p, 0, 'expected a folder')
      for (const link of dagPb.decode(internal as Uint8Array).Links) {
        if (link.Name == null || link.Name === '' || link.Name.includes('/') || link.Name === '..' || link.Name === '.') throw corrupt(p, 0, `unsafe entry name ${JSON.stringify(link.Name)}`)
        await verifyEntry(link.Hash, join(p, link.Name))
      }
      return
    }
    if (fs?.type === 'hamt-sharded-directory') throw new VerifyUnsupportedError(`${p}: HAMT-sharded folders are not verified yet`)
    if (fs?.type === 'symlink') {
      const target = st.isSymbolicLink() ? await readlink(p) : undefined
      if (target !== new TextDecoder().decode(fs.data)) throw corrupt(p, 0, 'the symlink target differs')
      return
    }
    if (!st.isFile()) throw corrupt(p, 0, 'expected a file')
    const fh = await open(p, 'r')
    try {
      const total = await verifyFileDag(cid, fh, p, 0, undefined)
      const size = (await fh.stat()).size
      if (size > total) throw corrupt(p, total, `${size - total} extra bytes after the end of the content`)
      state.files++
    } finally {
      await fh.close()
    }
  }

  await verifyEntry(index.root, path)
  report(true)
  return { cid: index.root.toString(), bytes: state.bytes, blocks: state.blocks, files: state.files }
}

function unixfsOf (block: Uint8Array): UnixFS | undefined {
  const node = dagPb.decode(block)
  return node.Data != null ? UnixFS.unmarshal(node.Data) : undefined
}

/** Rebuilds a leaf block from file bytes in each encoding kubo produces and checks it hashes to `cid`. */
function leafMatches (cid: CID, data: Uint8Array): boolean {
  if (cid.code === raw.code) return hashMatches(cid, data)
  if (cid.code !== dagPb.code) return false
  for (const type of ['file', 'raw'] as const) {
    const block = dagPb.encode({ Data: new UnixFS({ type, data }).marshal(), Links: [] })
    if (hashMatches(cid, block)) return true
  }
  return false
}

function hashMatches (cid: CID, bytes: Uint8Array): boolean {
  const mh = cid.multihash
  if (mh.code === 0x00) return Buffer.from(mh.digest).equals(Buffer.from(bytes))
  if (mh.code !== 0x12) throw new VerifyUnsupportedError(`hash function 0x${mh.code.toString(16)} is not supported by verify (only sha2-256 and identity)`)
  return createHash('sha256').update(bytes).digest().equals(Buffer.from(mh.digest))
}

