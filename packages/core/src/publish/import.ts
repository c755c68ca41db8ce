/**
 * Local UnixFS import: the one place that drives ipfs-unixfs-importer, with
 * the chunker and layout passed explicitly from a ResolvedImportShape so
 * nothing depends on the library's defaults.
 */
import type { BufferImporter, ImportCandidate } from 'ipfs-unixfs-importer'
import { createHash } from 'node:crypto'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { create as createDigest } from 'multiformats/hashes/digest'
import { AbortedError } from '../errors.ts'
import type { ResolvedImportShape } from './options.ts'
import { PiecePool, readFileChunks, releaseView, type ScannedSource } from './source.ts'
import type { BlockSink } from './blockstores.ts'

export interface ImportRunOptions {
  signal?: AbortSignal
  /** Called with the length of every chunk read from disk. */
  onBytes?: (n: number) => void
}

export async function importSource (source: ScannedSource, sink: BlockSink, shape: ResolvedImportShape, opts: ImportRunOptions = {}): Promise<CID> {
  // Loaded on first use: the importer and its dependencies are about 15 MiB of
  // RSS that a process which only pulls (the service, `pull`) never needs.
  const [{ importer }, { fixedSize }, { balanced }] = await Promise.all([
    import('ipfs-unixfs-importer'), import('ipfs-unixfs-importer/chunker'), import('ipfs-unixfs-importer/layout')
  ])
  // Read buffers can be recycled only when leaves are hashed and dropped (no bytes stored).
  const pool = sink.putLeaf != null ? new PiecePool() : undefined
  const candidates = async function * (): AsyncGenerator<ImportCandidate> {
    for (const e of source.entries) {
      if (opts.signal?.aborted === true) throw new AbortedError('add')
      if (e.type === 'file') yield { path: e.path, content: readFileChunks(e.absPath, opts.onBytes, opts.signal, readPieceSize(shape.chunkSize), pool) }
      else if (e.type === 'dir') yield { path: e.path }
      else yield { path: e.path, link: e.target }
    }
  }
  let root: CID | undefined
  for await (const entry of importer(candidates(), sink, {
    cidVersion: shape.cidVersion,
    rawLeaves: shape.rawLeaves,
    chunker: fixedSize({ chunkSize: shape.chunkSize }),
    layout: balanced({ maxChildrenPerNode: shape.maxLinks }),
    shardSplitStrategy: shape.shardSplitStrategy,
    reduceSingleLeafToSelf: true,
    bufferImporter: fastLeafImporter(shape),
    blockWriteConcurrency: 16,
    wrapWithDirectory: false
  })) {
    if (entry.path === source.rootName) root = entry.cid
  }
  if (root == null) throw new Error(`importer yielded no entry for ${source.rootName}`)
  return root
}

/**
 * Reads are whole multiples of the chunk size (about 4 MiB), so the chunker
 * hands out views of one buffer instead of copying, and there are few
 * buffers for the garbage collector to track.
 */
function readPieceSize (chunkSize: number): number {
  return chunkSize * Math.max(1, Math.floor(4 * 1024 * 1024 / chunkSize))
}

/**
 * The importer's leaf builder (same blocks, same CIDs as the stock one), made
 * cheaper: a `file` leaf is framed by hand instead of through the protobuf
 * writer, and when the sink only wants CIDs (`putLeaf`, as for --only-hash)
 * the leaf is hashed as prefix + data + suffix without ever being assembled,
 * so the data is never copied.
 */
const EMPTY = new Uint8Array(0)

function fastLeafImporter (shape: ResolvedImportShape): BufferImporter {
  return async function * leafImporter (file, blockstore) {
    const sink = blockstore as BlockSink
    for await (const chunk of file.content) {
      yield async () => {
        const n = chunk.byteLength
        if (sink.putLeaf != null && (shape.rawLeaves || n > 0)) {
          // Hash only. Nothing downstream needs the bytes (a file node takes its
          // block sizes from `blockSizes` when `data` is absent), so the chunk is
          // released for reuse as soon as it is hashed.
          const hash = createHash('sha256')
          let size = n
          let unixfs: UnixFS | undefined
          if (shape.rawLeaves) {
            hash.update(chunk)
          } else {
            const { prefix, suffix } = fileLeafFraming(n)
            hash.update(prefix).update(chunk).update(suffix)
            size += prefix.byteLength + suffix.byteLength
            unixfs = new UnixFS({ type: 'file', blockSizes: [BigInt(n)] })
          }
          const cid = shape.rawLeaves
            ? CID.createV1(raw.code, createDigest(0x12, hash.digest()))
            : CID.create(shape.cidVersion, dagPb.code, createDigest(0x12, hash.digest()))
          releaseView(chunk)
          await sink.putLeaf(cid, size)
          return { cid, unixfs, size: BigInt(size), block: EMPTY }
        }
        if (shape.rawLeaves) {
          const cid = CID.createV1(raw.code, createDigest(0x12, createHash('sha256').update(chunk).digest()))
          await sink.put(cid, chunk)
          return { cid, size: BigInt(n), block: chunk }
        }
        const unixfs = new UnixFS({ type: 'file', data: chunk })
        const block = chunk.byteLength > 0 ? encodeFileLeaf(chunk) : dagPb.encode({ Data: unixfs.marshal(), Links: [] })
        const cid = CID.create(shape.cidVersion, dagPb.code, createDigest(0x12, createHash('sha256').update(block).digest()))
        await sink.put(cid, block)
        return { cid, unixfs, size: BigInt(block.byteLength), block }
      }
    }
  }
}

/**
 * The dag-pb block of a UnixFS `file` leaf, byte for byte what
 * `dagPb.encode({ Data: new UnixFS({ type: 'file', data }).marshal(), Links: [] })`
 * gives for non-empty data, in one allocation and one copy:
 * PBNode{ Data(1): UnixFS{ Type(1)=File(2), Data(2)=data, filesize(3)=len } }.
 */
export function encodeFileLeaf (data: Uint8Array): Uint8Array {
  const { prefix, suffix } = fileLeafFraming(data.byteLength)
  const block = Buffer.allocUnsafe(prefix.byteLength + data.byteLength + suffix.byteLength)
  block.set(prefix, 0)
  block.set(data, prefix.byteLength)
  block.set(suffix, prefix.byteLength + data.byteLength)
  return block
}

/** The bytes before and after the data in a `file` leaf of `n` (> 0) data bytes. */
export function fileLeafFraming (n: number): { prefix: Uint8Array, suffix: Uint8Array } {
  const nLen = varintLength(n)
  const inner = 2 + 1 + nLen + n + 1 + nLen
  const prefix = new Uint8Array(1 + varintLength(inner) + 3 + nLen)
  let p = 0
  prefix[p++] = 0x0a
  p = writeVarint(prefix, p, inner)
  prefix[p++] = 0x08
  prefix[p++] = 0x02
  prefix[p++] = 0x12
  writeVarint(prefix, p, n)
  const suffix = new Uint8Array(1 + nLen)
  suffix[0] = 0x18
  writeVarint(suffix, 1, n)
  return { prefix, suffix }
}

function varintLength (n: number): number {
  let len = 1
  while (n >= 0x80) { n = Math.floor(n / 128); len++ }
  return len
}

function writeVarint (buf: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n % 128) | 0x80
    n = Math.floor(n / 128)
  }
  buf[pos++] = n
  return pos
}
