/**
 * The DAG index: what `models verify` needs to re-prove stored bytes against a
 * CID without a daemon, whatever chunker, layout or profile made the DAG.
 *
 * It keeps every block that is not file data (internal file nodes, folders,
 * symlinks) verbatim, and nothing of the leaves: their bytes are the stored
 * file, their sizes come from the parents' `blocksizes`, their CIDs from the
 * parents' links. So the index is tiny (about 0.02 % of the content with
 * 256 KiB chunks: ~1 MB for a 4.7 GB model), it is itself verified from the
 * root CID down, and a bad leaf is located exactly.
 *
 * Stored as a CAR (v1) whose root is the content's root CID.
 */
import { readFile } from 'node:fs/promises'
import * as dagPb from '@ipld/dag-pb'
import { CarWriter } from '@ipld/car/writer'
import { CarReader } from '@ipld/car/reader'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { UnixFS } from 'ipfs-unixfs'
import { writeFileAtomic } from '../util/atomic-write.ts'
import { parseCid } from './cid.ts'

export const DAG_INDEX_FILE = 'dag-index.car'

/** Collects the non-leaf blocks of a DAG as they are produced (publish) or fetched (download). */
export class DagIndexBuilder {
  readonly blocks = new Map<string, Uint8Array>()
  leaves = 0
  leafBytes = 0

  /** Offer every block of the DAG; leaves are counted and dropped. */
  add (cid: CID, bytes: Uint8Array): void {
    if (isLeaf(cid, bytes)) {
      this.leaves++
      this.leafBytes += bytes.byteLength
      return
    }
    this.blocks.set(cid.toString(), bytes)
  }

  /** A block known to be a leaf (its bytes are the stored content). */
  addLeaf (blockSize: number): void {
    this.leaves++
    this.leafBytes += blockSize
  }

  /** Writes the index for `root` as a CAR, atomically. */
  async write (file: string, root: CID | string): Promise<void> {
    const rootCid = typeof root === 'string' ? parseCid(root) : root
    const { writer, out } = CarWriter.create([rootCid])
    const parts: Uint8Array[] = []
    const collect = (async () => { for await (const p of out) parts.push(p) })()
    for (const [key, bytes] of this.blocks) await writer.put({ cid: CID.parse(key), bytes })
    await writer.close()
    await collect
    await writeFileAtomic(file, Buffer.concat(parts))
  }
}

export interface DagIndex {
  root: CID
  blocks: Map<string, Uint8Array>
}

export async function readDagIndex (file: string): Promise<DagIndex> {
  const reader = await CarReader.fromBytes(await readFile(file))
  const [root] = await reader.getRoots()
  if (root == null) throw new Error(`${file} names no root`)
  const blocks = new Map<string, Uint8Array>()
  for await (const { cid, bytes } of reader.blocks()) blocks.set(cid.toString(), bytes)
  return { root, blocks }
}

/** A block carrying file bytes: a raw block, or a link-less dag-pb UnixFS file/raw node. */
export function isLeaf (cid: CID, bytes: Uint8Array): boolean {
  if (cid.code === raw.code) return true
  if (cid.code !== dagPb.code) return false
  const node = dagPb.decode(bytes)
  if (node.Links.length > 0 || node.Data == null) return false
  const type = UnixFS.unmarshal(node.Data).type
  return type === 'file' || type === 'raw'
}
