/**
 * Every block of a retrieved DAG, rebuilt from what the retrieval left on
 * disk: interior blocks from its block cache, leaves from the file bytes at
 * the offsets their verified parents give, each re-verified against its CID
 * (a leaf whose encoding cannot be rebuilt exactly stops the walk).
 */
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import type { CID } from 'multiformats/cid'
import { UnsupportedContentError } from '../errors.ts'
import type { VerifiedBlock } from './source.ts'
import { decodeNode, leafBlockFromData } from '../ipld/unixfs.ts'
import { isIdentity } from '../ipld/verify-block.ts'

/** Where verified interior blocks are kept (the retrieval's journal). */
export interface BlockCache {
  getBlock: (cid: CID) => Promise<Uint8Array | undefined>
}

/** Every block of the DAG under `cid` (placed at `path`, from byte `offset` of its file). */
export async function * localBlocks (cid: CID, path: string, journal: BlockCache, offset: number, size: number | undefined): AsyncGenerator<VerifiedBlock> {
  if (isIdentity(cid)) return
  const cached = await journal.getBlock(cid)
  if (cached != null) {
    yield { cid, bytes: cached }
    const node = decodeNode(cid, cached)
    if (node.type === 'file') {
      let at = offset + node.data.byteLength
      for (const child of node.children) {
        yield * localBlocks(child.cid, path, journal, at, child.size)
        at += child.size
      }
    } else if (node.type !== 'symlink') {
      for (const e of node.entries) yield * localBlocks(e.cid, join(path, e.name), journal, 0, undefined)
      if (node.type === 'hamt') for (const s of node.shards) yield * localBlocks(s, path, journal, 0, undefined)
    }
    return
  }
  // Not cached: a leaf (or a single-block file), whose bytes are in the file.
  const fh = await open(path, 'r')
  let data: Buffer
  try {
    const length = size ?? (await fh.stat()).size
    data = Buffer.alloc(length)
    let got = 0
    while (got < length) {
      const { bytesRead } = await fh.read(data, got, length - got, offset + got)
      if (bytesRead === 0) break
      got += bytesRead
    }
  } finally {
    await fh.close()
  }
  const bytes = leafBlockFromData(cid, data)
  if (bytes != null) {
    yield { cid, bytes }
    return
  }
  throw new UnsupportedContentError(`a leaf (${cid.toString()}) whose encoding cannot be rebuilt for kubo`)
}

