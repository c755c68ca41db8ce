/**
 * Write-only blockstores for the importer. Neither keeps blocks in memory:
 * HashOnlyBlockstore counts and discards (`--only-hash`), CarFileBlockstore
 * streams each block into a CAR file as it is made.
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises'
import { dirname, basename, join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { CarWriter } from '@ipld/car/writer'
import { CID } from 'multiformats/cid'
import * as dagPb from '@ipld/dag-pb'
import { create as createDigest } from 'multiformats/hashes/digest'
import { fsyncDir } from '../util/atomic-write.ts'

export interface BlockSink {
  put: (cid: CID, bytes: Uint8Array) => Promise<CID>
  /** Present on sinks that need no leaf bytes: the leaf's CID and block size only. */
  putLeaf?: (cid: CID, blockSize: number) => Promise<void>
}

export class HashOnlyBlockstore implements BlockSink {
  blocks = 0
  bytes = 0

  async put (cid: CID, bytes: Uint8Array): Promise<CID> {
    this.blocks++
    this.bytes += bytes.byteLength
    return cid
  }

  async putLeaf (_cid: CID, blockSize: number): Promise<void> {
    this.blocks++
    this.bytes += blockSize
  }
}

/**
 * Streams blocks into `<target>` through a temp file beside it. The root is
 * unknown until the importer finishes, so the header carries a placeholder of
 * the expected length that is patched in place at the end (or, if the real
 * root's length differs, the file is rewritten once with the right header).
 */
export class CarFileBlockstore implements BlockSink {
  readonly target: string
  blocks = 0
  bytes = 0
  private readonly tmp: string
  private readonly placeholder: CID
  private fh: FileHandle | undefined
  private writer: ReturnType<typeof CarWriter.create>['writer'] | undefined
  private pump: Promise<void> | undefined
  /** Identical chunks are written once. */
  private readonly seen = new Set<string>()

  constructor (target: string, cidVersion: 0 | 1) {
    this.target = target
    this.tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.partial`)
    const zeros = createDigest(0x12, new Uint8Array(32))
    this.placeholder = cidVersion === 0 ? CID.createV0(zeros) : CID.createV1(dagPb.code, zeros)
  }

  async open (): Promise<void> {
    this.fh = await open(this.tmp, 'w')
    const { writer, out } = CarWriter.create([this.placeholder])
    this.writer = writer
    const fh = this.fh
    this.pump = (async () => {
      for await (const chunk of out) await fh.write(chunk)
    })()
  }

  async put (cid: CID, bytes: Uint8Array): Promise<CID> {
    if (this.writer == null) throw new Error('CarFileBlockstore.open() was not called')
    const key = cid.toString()
    if (this.seen.has(key)) return cid
    this.seen.add(key)
    this.blocks++
    this.bytes += bytes.byteLength
    await this.writer.put({ cid, bytes })
    return cid
  }

  /** Fixes the root, makes the file durable and moves it into place. */
  async finish (root: CID): Promise<void> {
    if (this.writer == null || this.fh == null) throw new Error('CarFileBlockstore.open() was not called')
    await this.writer.close()
    await this.pump
    let fh = this.fh
    try {
      await CarWriter.updateRootsInFile(fh, [root])
    } catch {
      // The real root encodes to a different length (e.g. a raw single-block
      // root under CIDv0): rewrite once with the right header.
      await fh.close()
      fh = await this.rewriteWithRoot(root)
      this.fh = fh
    }
    await fh.sync()
    await fh.close()
    this.fh = undefined
    await rename(this.tmp, this.target)
    await fsyncDir(dirname(this.target))
  }

  async abort (): Promise<void> {
    await this.writer?.close().catch(() => {})
    await this.pump?.catch(() => {})
    await this.fh?.close().catch(() => {})
    await rm(this.tmp, { force: true })
  }

  private async rewriteWithRoot (root: CID): Promise<FileHandle> {
    const { CarBlockIterator } = await import('@ipld/car/iterator')
    const { createReadStream } = await import('node:fs')
    const rewritten = `${this.tmp}.2`
    const out = await open(rewritten, 'w')
    const { writer, out: bytes } = CarWriter.create([root])
    const pump = (async () => { for await (const chunk of bytes) await out.write(chunk) })()
    const blocks = await CarBlockIterator.fromIterable(createReadStream(this.tmp))
    for await (const block of blocks) await writer.put(block)
    await writer.close()
    await pump
    await rename(rewritten, this.tmp)
    return out
  }
}
