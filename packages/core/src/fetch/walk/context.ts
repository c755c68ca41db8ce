/** What every task handler of one walk shares, passed to each handler instead of closures. */
import PQueue from 'p-queue'
import { logger } from '../../log.ts'
import type { CID } from 'multiformats/cid'
import { AbortedError, SizeLimitError } from '../../errors.ts'
import { isLeaf } from '../../ipld/dag-index.ts'
import { leafBlockFromData } from '../../ipld/unixfs.ts'
import { isIdentity } from '../../ipld/verify-block.ts'
import type { BlockFetcher } from '../fetcher.ts'
import type { PullJournal } from '../journal.ts'
import { BufferPool } from '../leaf-sink.ts'
import { DuplicateFiles } from './duplicates.ts'
import { FileWriter } from './file-writer.ts'
import { LeafPlaces, type LeafPlace } from './leaf-places.ts'
import { PendingSymlinks, type SymlinkMode } from './symlinks.ts'
import { Tail } from './tail.ts'
import type { Position, Task } from './tasks.ts'

const log = logger('fetch')

export interface WalkOptions {
  root: CID
  journal: PullJournal
  fetcher: BlockFetcher
  concurrency: number
  signal: AbortSignal
  /** Largest total of file sizes accepted (max_model_size_gb). */
  maxBytes: number
  /** File bytes placed on disk (fetched, or found done on resume). */
  onBytes: (n: number, resumed: boolean) => void
  /** Total declared file bytes discovered so far (exact once the walk ends). */
  onDeclared: (total: number) => void
  /** Awaited before each fetch; the pause gate. */
  gate: () => Promise<void>
  /** True while paused: open CAR streams stop and resume later. */
  isPaused: () => boolean
  /** Bytes per range request, byte range or CAR (0 disables both: one raw-block request per block). */
  rangeBytes: number
  /** Byte-range reads at once across all sources (each holds about 1 MiB of leaf buffers); default 16 with several range sources, 4 with one. */
  streams?: number
  /** fdatasync as we go and before returning (default true). */
  fsync?: boolean
  /** How a folder's symlinks are written: 'link' (copies where links fail; the default) or 'copy' (the default on Windows). */
  symlinks?: SymlinkMode
}

/** Spare leaf buffers kept between byte-range reads. */
const SPARE_BUFFER_BYTES = 8 * 1024 * 1024
/**
 * Byte-range reads at once, all sources together: enough for every source's
 * window to fill (a daemon's 16 is rarely reached before its throughput stops
 * growing; the WAN bench's three gateways need 3 + 4 + 4 at their
 * per-connection caps, and with 12 the fast one's probes left the slow one 2),
 * few enough that their leaf buffers (about 1 MiB each: 16 MiB) keep a pull
 * under 150 MB RSS (the WAN bench's 1 GiB pull peaked at 130 MiB; with 2 MiB
 * per read it grew to 152 MiB).
 */
export const DEFAULT_STREAMS = 16
/** The most read slots several sources' windows may open (retune): 24 MiB of leaf buffers. */
export const MAX_STREAMS = 24
/**
 * With one range source (the local daemon, typically) a pull is CPU-bound on
 * 2 cores and 4 reads keep it busy; the bench's 1 GiB local pull peaked at
 * 133 MB RSS with 4 reads and 8 blocks in flight, 160 MB with 12 and 16.
 */
export const SINGLE_SOURCE_STREAMS = 4
/** With several range sources, pieces are at most this large (so stealing and hedging have small units)… */
const MULTI_SOURCE_PIECE_MAX = 8 * 1024 * 1024
/** …and at least this large (a request per 2 MiB keeps the per-request overhead small even at 200 ms RTT). */
const MULTI_SOURCE_PIECE_MIN = 2 * 1024 * 1024

export class WalkContext {
  readonly opts: WalkOptions
  readonly journal: PullJournal
  readonly fetcher: BlockFetcher
  readonly signal: AbortSignal
  readonly writer: FileWriter
  /** Slots for byte-range reads: a read takes its leaf buffers only once it holds one. */
  readonly streams: PQueue
  readonly pool = new BufferPool(SPARE_BUFFER_BYTES)
  /** Every file created, for the fdatasync before the commit. */
  readonly files: string[] = []
  rootType: 'file' | 'directory' = 'file'
  /** Declared file bytes so far. */
  declared = 0
  /** File bytes filled by copying a leaf already written in this pull (not fetched). */
  copiedBytes = 0
  /** Queues tasks to run before everything queued earlier (depth first). */
  readonly push: (tasks: Task[]) => void
  /** Where this pull's leaves were written: a repeated leaf is copied from there, never fetched twice. */
  readonly leaves = new LeafPlaces()
  /** Entries naming a file already met in this walk: hard-linked to it once the walk is done. */
  readonly duplicates = new DuplicateFiles()
  /** The folder's symlinks: written (or reported) once the walk is done. */
  readonly symlinks: PendingSymlinks
  /**
   * Node lookups under way, by CID: tasks wanting one block at once (the root
   * of a file repeated in a folder, a shard) share one lookup and one request.
   * At most `concurrency` entries, each settled and removed within its task.
   */
  private readonly nodes = new Map<string, Promise<{ bytes: Uint8Array, cached: boolean }>>()
  readonly tail: Tail
  /** Declared size of each file read in byte ranges, by root CID (one entry per such file), for pieceBytes. */
  private readonly fileSizes = new Map<string, number>()

  constructor (opts: WalkOptions, push: (tasks: Task[]) => void) {
    this.opts = opts
    this.journal = opts.journal
    this.fetcher = opts.fetcher
    this.signal = opts.signal
    this.writer = new FileWriter(opts.fsync !== false)
    this.symlinks = new PendingSymlinks(opts.symlinks)
    this.streams = new PQueue({ concurrency: Math.max(1, opts.streams ?? (opts.fetcher.rangeSources <= 1 ? SINGLE_SOURCE_STREAMS : DEFAULT_STREAMS)) })
    // Pieces (byte-range tasks) are counted until they start reading: the tail acts only once none waits.
    this.push = (tasks) => {
      for (const t of tasks) if (t.t === 'leaves' && t.hedgeOf == null) this.tail.unstarted++
      push(tasks)
    }
    this.tail = new Tail(opts.fetcher, this.push)
  }

  /**
   * Read slots for the sources still answering (unless the caller fixed
   * them). With several: their windows together, within DEFAULT_STREAMS and
   * MAX_STREAMS, so a source with room never waits for a slot another's
   * grown window holds (16 fixed slots, a 60 and a 40 MB/s gateway at 8
   * each, and a third with room for 4 got 3 MB/s of its 20 for the last 6 s
   * of a 1 GiB pull). With one (a pull whose second source is set aside for
   * giving no answer: a fallback gateway that is down, as on an air-gapped
   * machine) a single source's slots again, and back once it answers.
   * Measured on a 1 GiB pull from the local daemon with an unreachable
   * fallback: 16 slots held 159–172 MiB RSS and 4.8–5.6 CPU s, 4 slots
   * 123–126 MiB, 4.3–4.6 s.
   */
  retune (): void {
    if (this.opts.streams != null) return
    const n = this.fetcher.answeringRangeSources
    const want = n <= 1 ? SINGLE_SOURCE_STREAMS : Math.min(MAX_STREAMS, Math.max(DEFAULT_STREAMS, this.fetcher.answeringWindows))
    if (want === this.streams.concurrency) return
    if ((n <= 1) !== (this.streams.concurrency === SINGLE_SOURCE_STREAMS)) log('%d source(s) answering: %d read slots', n, want)
    this.streams.concurrency = want
  }

  /**
   * The whole size of the file whose root is `file` (recorded as `size` when
   * given, at its root node): pieces are cut by the file's size, not by the
   * size of the interior node holding them (43.5 MiB for kubo's 256 KiB
   * chunks, which made 3.6 MiB pieces, each paying a connection's
   * handshake and request RTTs: 0.4 s on a 200 ms gateway for 0.75 s of data).
   */
  fileSize (file: { toString: () => string }, size?: number): number {
    const key = file.toString()
    if (size !== undefined) this.fileSizes.set(key, size)
    return this.fileSizes.get(key) ?? this.opts.rangeBytes
  }

  /**
   * Bytes per piece of a file of `size` bytes: `rangeBytes` with one range
   * source (a fast local daemon wants few, large requests); with several,
   * about a quarter of an even share per source, within 2–8 MiB, so every
   * source has work and the tail can be split.
   */
  pieceBytes (size: number): number {
    const n = this.fetcher.rangeSources
    if (n <= 1) return this.opts.rangeBytes
    const even = Math.floor(size / (4 * n))
    return Math.min(this.opts.rangeBytes, Math.max(MULTI_SOURCE_PIECE_MIN, Math.min(MULTI_SOURCE_PIECE_MAX, even)))
  }

  /**
   * A verified block: from the journal's cache, a leaf already written in this
   * pull (re-proved as it is read back), else (after the pause gate) from the
   * sources. An interior block fetched is cached in the journal before anyone
   * is handed it, so it is never requested again in this pull (nor after a
   * resume). `cached`: it was in the journal already.
   */
  async fetchNode (cid: CID): Promise<{ bytes: Uint8Array, cached: boolean }> {
    const key = cid.toString()
    let lookup = this.nodes.get(key)
    if (lookup == null) {
      lookup = this.lookupNode(cid).finally(() => { this.nodes.delete(key) })
      this.nodes.set(key, lookup)
    }
    return await lookup
  }

  private async lookupNode (cid: CID): Promise<{ bytes: Uint8Array, cached: boolean }> {
    const cached = await this.journal.getBlock(cid)
    if (cached != null) return { bytes: cached, cached: true }
    let place = this.leaves.lookup(cid)
    if (place instanceof Promise) place = await place
    if (place != null) {
      const data = await this.leaves.read(cid, place)
      const bytes = data != null ? leafBlockFromData(cid, data) : undefined
      if (bytes != null) return { bytes, cached: false }
    }
    await this.opts.gate()
    if (this.signal.aborted) throw new AbortedError('pull')
    const bytes = await this.fetcher.get(cid, this.signal)
    if (!isIdentity(cid) && !isLeaf(cid, bytes)) await this.journal.putBlock(cid, bytes)
    return { bytes, cached: false }
  }

  /**
   * Fills leaf `p` of the file at `path` from where the same leaf was written
   * (re-proved as read), and logs it like a fetched leaf so a resume trusts it
   * the same way. False when the bytes there no longer prove (then fetch it).
   */
  async copyLeaf (path: string, rel: string, p: Position, from: LeafPlace): Promise<boolean> {
    if (from.path === path && from.offset === p.offset) return true
    const data = await this.leaves.read(p.cid, from)
    if (data == null) return false
    await this.writer.write(path, data, p.offset)
    await this.journal.markLeaf(rel, p.offset, p.size, p.cid)
    this.copiedBytes += p.size
    this.opts.onBytes(p.size, true)
    return true
  }

  /** A leaf is written (and logged) at `offset` of `path`: later copies of it come from there. */
  placed (cid: CID, path: string, offset: number, size: number): void {
    this.leaves.record(cid, { path, offset, size })
  }

  /** Adds a file's declared size; over max_model_size_gb stops the walk. */
  declare (n: number): void {
    this.declared += n
    if (this.declared > this.opts.maxBytes) throw new SizeLimitError(this.declared, this.opts.maxBytes, true)
    this.opts.onDeclared(this.declared)
  }
}
