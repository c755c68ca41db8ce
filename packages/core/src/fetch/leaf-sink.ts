/**
 * The receiving end of a byte-range read: the range covers a run of leaves
 * whose CIDs and sizes come from verified parent nodes. Bytes land in a
 * leaf-sized buffer; when a leaf is complete it is proved against its CID
 * where it sits (no copy), then written at its offset and logged, while the
 * next leaf fills another buffer. A leaf that does not prove stops the read
 * with LeafMismatch; nothing unproved is ever written.
 *
 * The tail of a pull reshapes reads while they run: `truncate` ends a read
 * early at a leaf boundary (its back half given to another source: work
 * stealing), and two reads of the same leaves may share `claims` (hedging):
 * the first proved copy of each leaf is stored, the other skipped, and a read
 * whose leaves were all stored by its partner is cancelled.
 *
 * Memory: a fixed set of buffers per read (about 2 MiB, at least 3 leaves),
 * taken from and given back to a shared pool; when all are waiting on the
 * disk, reading pauses.
 */
import type { CID } from 'multiformats/cid'
import type { RangeSink } from './range-client.ts'
import { leafMatches } from '../ipld/unixfs.ts'

export interface Leaf { cid: CID, offset: number, size: number }

/** A leaf's bytes did not prove against its CID (a lying source, or an interior node taken for a leaf). */
export class LeafMismatch extends Error {
  readonly leaf: Leaf
  readonly data: Uint8Array
  constructor (leaf: Leaf, data: Uint8Array) {
    super(`bytes at ${leaf.offset} do not match ${leaf.cid.toString()}`)
    this.leaf = leaf
    this.data = data
  }
}

/** The read was asked to stop between leaves (paused). */
export class SinkStopped extends Error {}

/** Reusable buffers, by size, so streams do not allocate per leaf. */
export class BufferPool {
  private readonly free = new Map<number, Uint8Array[]>()
  private readonly maxKeptBytes: number
  private kept = 0

  constructor (maxKeptBytes: number) { this.maxKeptBytes = maxKeptBytes }

  take (size: number): Uint8Array {
    const list = this.free.get(size)
    const b = list?.pop()
    if (b != null) { this.kept -= size; return b }
    return Buffer.allocUnsafeSlow(size)
  }

  give (b: Uint8Array): void {
    if (this.kept + b.byteLength > this.maxKeptBytes) return
    const list = this.free.get(b.byteLength) ?? []
    list.push(b)
    this.free.set(b.byteLength, list)
    this.kept += b.byteLength
  }
}

/**
 * Leaf buffers per byte-range read (at least 3 leaves): received, being
 * proved, or waiting for their write. 1 MiB is 40 ms of a 24 MB/s connection
 * and 4 ms of a local daemon's; at 2 MiB the WAN bench's 1 GiB pull grew to
 * 152 MiB RSS (16 reads), at 1 MiB it stayed at 130, at the same speed.
 */
const BYTES_IN_FLIGHT_PER_READ = 1024 * 1024

export interface LeafSinkOptions {
  /** Contiguous leaves of one file, in offset order, none empty. */
  leaves: Leaf[]
  pool: BufferPool
  /** Writes a proved leaf's bytes at its offset and records it (resolves when durable enough to log). */
  store: (leaf: Leaf, data: Uint8Array) => Promise<void>
  /** Checked between leaves: true stops the read (SinkStopped). */
  shouldStop: () => boolean
}

export class LeafSink implements RangeSink {
  private readonly opts: LeafSinkOptions
  private readonly bufSize: number
  private readonly buffers: Uint8Array[] = []
  private readonly pending = new Set<Promise<void>>()
  private failure: unknown
  private index = 0
  private fill = 0
  private current: Uint8Array | undefined
  /** Leaves from this index on are no longer this read's (truncated or cancelled). */
  private limit: number
  /** Called when a buffer frees up after `buffer()` returned undefined. */
  onRoom: () => void = () => {}
  /** Called when the read should end at byte `to` of the file (truncate), or now (undefined: cancelled). */
  onTruncate: (to: number | undefined) => void = () => {}
  /** Bytes received (proved or not). */
  received = 0
  /**
   * Bytes of leaves received whole and proved against their CIDs (a hedged
   * duplicate included: it was proved, then skipped). What a source is
   * credited with: a read cut short mid-leaf (stolen, hedged, stopped) leaves
   * `received` ahead of it by bytes nobody checked.
   */
  proved = 0
  /** The source reading into this sink (set by the fetcher). */
  source: string | undefined
  /** When it started reading (ms since the epoch; set by the fetcher). */
  startedAt = 0
  /** Leaves handed to `store`. */
  stored = 0
  /** Leaves taken off before the read started (for a source that cuts long answers): the walk queues them again. */
  readonly deferred: Leaf[] = []
  /** Shared with a hedge partner: offsets of leaves already stored by either. */
  claims: Set<number> | undefined
  partner: LeafSink | undefined

  constructor (opts: LeafSinkOptions) {
    this.opts = opts
    this.limit = opts.leaves.length
    this.bufSize = Math.max(1, ...opts.leaves.map(l => l.size))
    const count = Math.max(3, Math.ceil(BYTES_IN_FLIGHT_PER_READ / this.bufSize))
    for (let i = 0; i < count; i++) this.buffers.push(opts.pool.take(this.bufSize))
  }

  /** Leaves not yet handed to `store` (the first may be partly received). */
  get remaining (): Leaf[] { return this.opts.leaves.slice(this.index, this.limit) }

  /** Bytes of this read's leaves not yet received. */
  get unreceived (): number {
    let n = -this.fill
    for (let i = this.index; i < this.limit; i++) n += (this.opts.leaves[i] as Leaf).size
    return n
  }

  /** The end (file offset) of this read's last leaf. */
  get end (): number {
    const last = this.opts.leaves[this.limit - 1]
    return last == null ? 0 : last.offset + last.size
  }

  /**
   * Ends this read after at most `count` more leaves (at least the one being
   * received); returns the leaves taken off (empty when none could be).
   */
  truncate (count: number): Leaf[] {
    const min = this.index + (this.current != null || this.fill > 0 ? 1 : 0)
    const at = Math.max(min, this.index + Math.max(0, count))
    if (at >= this.limit) return []
    const taken = this.opts.leaves.slice(at, this.limit)
    this.limit = at
    this.onTruncate(this.end)
    return taken
  }

  /** Keeps leaves whose bytes total at most `maxBytes` (at least one): for a source that cuts longer answers. */
  truncateBytes (maxBytes: number): Leaf[] {
    let n = 0
    let bytes = 0
    for (let i = this.index; i < this.limit; i++) {
      bytes += (this.opts.leaves[i] as Leaf).size
      if (bytes > maxBytes && n > 0) break
      n++
    }
    return this.truncate(n)
  }

  /** Stops this read now: its partner stored (or will store) everything left. */
  cancel (): void {
    if (this.limit === this.index) return
    this.limit = this.index
    this.onTruncate(undefined)
  }

  buffer (): Uint8Array | undefined {
    if (this.failure !== undefined) throw this.failure
    const leaf = this.index < this.limit ? this.opts.leaves[this.index] : undefined
    if (leaf == null) return undefined
    if (this.current == null) {
      if (this.fill === 0 && this.opts.shouldStop()) throw new SinkStopped('stopped')
      this.current = this.buffers.pop()
      if (this.current == null) return undefined
    }
    return this.current.subarray(this.fill, leaf.size)
  }

  wrote (n: number): void {
    this.received += n
    this.fill += n
    const leaf = this.opts.leaves[this.index] as Leaf
    if (this.fill < leaf.size) return
    const buf = this.current as Uint8Array
    const data = buf.subarray(0, leaf.size)
    if (!leafMatches(leaf.cid, data)) throw new LeafMismatch(leaf, Uint8Array.from(data))
    this.proved += leaf.size
    this.current = undefined
    this.fill = 0
    this.index++
    if (this.claims != null) {
      // Hedged: the first proved copy is stored, the other skipped.
      if (this.claims.has(leaf.offset)) { this.recycle(buf); this.checkPartner(); return }
      this.claims.add(leaf.offset)
    }
    this.launch(leaf, data, buf)
    this.checkPartner()
  }

  private checkPartner (): void {
    const p = this.partner
    const claims = this.claims
    if (p == null || claims == null) return
    if (p.remaining.every(l => claims.has(l.offset))) p.cancel()
  }

  /** A skipped leaf's buffer is free at once (the reader asks for its next view right after `wrote`). */
  private recycle (buf: Uint8Array): void {
    this.buffers.push(buf)
  }

  /** Waits for every started write; rethrows the first write failure. */
  async drain (): Promise<void> {
    while (this.pending.size > 0) await Promise.race(this.pending)
    if (this.failure !== undefined) throw this.failure
  }

  /** Gives the buffers back to the pool (after drain). */
  release (): void {
    if (this.current != null) this.buffers.push(this.current)
    this.current = undefined
    for (const b of this.buffers.splice(0)) this.opts.pool.give(b)
  }

  private launch (leaf: Leaf, data: Uint8Array, buf: Uint8Array): void {
    this.stored++
    const p: Promise<void> = this.opts.store(leaf, data)
      .catch((err: unknown) => { this.failure ??= err })
      .finally(() => {
        this.pending.delete(p)
        const starved = this.current == null
        this.buffers.push(buf)
        if (starved) this.onRoom()
      })
    this.pending.add(p)
  }
}
