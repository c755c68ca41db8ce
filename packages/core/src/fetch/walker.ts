/**
 * Walks a UnixFS DAG ourselves and writes each file's bytes at their offsets
 * into the pull's `content` path. Work is a LIFO stack (depth-first, so writes
 * are mostly sequential) drained by `concurrency` workers.
 *
 * Memory bound: at most `concurrency` blocks (≤ 2 MiB each) are held at once;
 * byte-range reads add `streams` × about 2 MiB of leaf buffers (at least 3
 * leaves each) and a pool of ≤ 8 MiB of spare ones; plus the stack of pending
 * CIDs, which depth-first order keeps at about depth × links-per-node for a
 * file (≈ 3 × 174 for a 20 GB kubo file), plus, for directories, one pending
 * entry per not-yet-visited name; plus the resume set (one short string per
 * leaf found on disk at the start). Never a whole file or DAG.
 *
 * Every size is cross-checked: a child's bytes must be exactly its parent's
 * blocksize, so bytes can never land outside the file or at a wrong offset.
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { CID } from 'multiformats/cid'
import { AbortedError, InvalidDagError, SizeLimitError, UnsafeNameError } from '../errors.ts'
import type { BlockFetcher, RangeOutcome } from './fetcher.ts'
import type { PullJournal } from './journal.ts'
import { BufferPool, LeafMismatch, LeafSink, SinkStopped } from './leaf-sink.ts'
import { decodeNode, leafBlockFromData, type DecodedNode } from '../ipld/unixfs.ts'
import { CODEC_RAW, isIdentity, MAX_BLOCK_BYTES } from '../ipld/verify-block.ts'

type Task =
  | { t: 'entry', cid: CID, path: string, rel: string }
  /** A node at an offset of a file; `file` is set inside a big file, whose leaves go out as byte-range runs. */
  | { t: 'part', cid: CID, path: string, rel: string, offset: number, size: number, file?: CID }
  /** Contiguous likely leaves of the big file `file`, read as one plain byte range and proved leaf by leaf. */
  | { t: 'leaves', file: CID, path: string, rel: string, leaves: Position[], attempt: number }
  | { t: 'shard', cid: CID, path: string, rel: string, names: Set<string> }
  /** Positions of a file fetched as one CAR stream of the root's `entity-bytes` range [from, to). */
  | { t: 'range', root: CID, path: string, rel: string, from: number, to: number, positions: Position[], attempt: number }

/** A node expected at a byte offset of a file; `tsize` is its parent link's subtree-size hint. */
interface Position { cid: CID, offset: number, size: number, tsize?: number }

/**
 * Files at least this large are fetched in byte ranges (fewer, larger requests):
 * plain byte ranges proved leaf by leaf from sources that serve them, else CAR ranges.
 */
export const CAR_MIN_FILE_BYTES = 4 * 1024 * 1024
const CAR_MAX_ATTEMPTS = 3
/** Leaf writes a CAR stream may have pending while it reads on (≤ 2 MiB each). */
const WRITES_IN_FLIGHT_PER_STREAM = 8

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
  /** Byte-range reads at once (each holds about 2 MiB of leaf buffers); default 4. */
  streams?: number
  /** fdatasync as we go and before returning (default true). */
  fsync?: boolean
}

export interface WalkResult {
  type: 'file' | 'directory'
  totalBytes: number
  files: number
}

export async function walkDag (opts: WalkOptions): Promise<WalkResult> {
  const { journal, fetcher, signal } = opts
  const stack: Task[] = [{ t: 'entry', cid: opts.root, path: journal.contentPath, rel: '' }]
  const files: string[] = []
  const writer = new FileWriter(opts.fsync !== false)
  let rootType: 'file' | 'directory' = 'file'
  let declared = 0
  let active = 0
  let failure: unknown
  let waiters: Array<() => void> = []
  const wake = (): void => { const w = waiters; waiters = []; for (const f of w) f() }
  const streamSlots = new Slots(opts.streams ?? 4)
  const pool = new BufferPool(8 * 1024 * 1024)

  const fetchNode = async (cid: CID): Promise<{ bytes: Uint8Array, cached: boolean }> => {
    const cached = await journal.getBlock(cid)
    if (cached != null) return { bytes: cached, cached: true }
    await opts.gate()
    if (signal.aborted) throw new AbortedError('pull')
    return { bytes: await fetcher.get(cid, signal), cached: false }
  }

  /**
   * A leaf the journal says is written, re-proved from the bytes on disk before
   * it is trusted: a journal line can outlive its data (power loss) or the
   * partial file can be damaged. A leaf that does not verify is fetched again.
   */
  const leafOnDisk = async (path: string, rel: string, offset: number, cid: CID): Promise<number | undefined> => {
    const size = journal.leafDone(rel, offset, cid)
    if (size === undefined) return undefined
    try {
      const data = Buffer.alloc(size)
      const fh = await open(path, 'r')
      try {
        let got = 0
        while (got < size) {
          const { bytesRead } = await fh.read(data, got, size - got, offset + got)
          if (bytesRead === 0) return undefined
          got += bytesRead
        }
      } finally {
        await fh.close()
      }
      return leafBlockFromData(cid, data) != null ? size : undefined
    } catch {
      return undefined
    }
  }

  const declare = (n: number): void => {
    declared += n
    if (declared > opts.maxBytes) throw new SizeLimitError(declared, opts.maxBytes, true)
    opts.onDeclared(declared)
  }

  const writeFilePart = async (task: { cid: CID, path: string, rel: string, file?: CID }, node: Extract<DecodedNode, { type: 'file' }>, offset: number, bytes: Uint8Array, cached: boolean, isRoot: boolean): Promise<void> => {
    if (node.data.byteLength > 0) await writer.write(task.path, node.data, offset)
    if (node.children.length === 0) {
      await journal.markLeaf(task.rel, offset, node.data.byteLength, task.cid)
      opts.onBytes(node.data.byteLength, false)
      return
    }
    if (node.data.byteLength > 0) opts.onBytes(node.data.byteLength, cached)
    if (!cached) await journal.putBlock(task.cid, bytes)
    let at = offset + node.data.byteLength
    const positions: Position[] = []
    for (const child of node.children) {
      positions.push({ cid: child.cid, offset: at, size: child.size, tsize: child.tsize })
      at += child.size
    }
    const file = isRoot && opts.rangeBytes > 0 && node.fileSize >= CAR_MIN_FILE_BYTES ? task.cid : task.file
    if (file != null) {
      push(groupPositions(file, task.path, task.rel, positions))
      return
    }
    push(positions.map(p => ({ t: 'part', cid: p.cid, path: task.path, rel: task.rel, offset: p.offset, size: p.size })))
  }

  /**
   * A big file's children in order: runs of likely leaves become byte-range
   * tasks of about `rangeBytes`; anything else (an interior node, an empty or
   * identity leaf) is fetched as a node and its children grouped the same way.
   */
  const groupPositions = (file: CID, path: string, rel: string, positions: Position[]): Task[] => {
    const span = Math.max(opts.rangeBytes, 1024 * 1024)
    const tasks: Task[] = []
    let run: Position[] = []
    let runBytes = 0
    const flush = (): void => {
      if (run.length > 0) tasks.push({ t: 'leaves', file, path, rel, leaves: run, attempt: 0 })
      run = []
      runBytes = 0
    }
    for (const p of positions) {
      if (likelyLeaf(p)) {
        run.push(p)
        runBytes += p.size
        if (runBytes >= span) flush()
      } else {
        flush()
        tasks.push({ t: 'part', cid: p.cid, path, rel, offset: p.offset, size: p.size, file })
      }
    }
    flush()
    return tasks
  }

  /**
   * A run of leaves read as one plain byte range of the file, each leaf proved
   * against its CID before it is written (LeafSink). Leaves already on disk
   * are skipped. What a failed read did not deliver is read again (another
   * source, or the same after a strike), and after CAR_MAX_ATTEMPTS, or when no
   * source serves byte ranges, it goes to trustless CAR ranges instead.
   */
  const handleLeaves = async (task: Extract<Task, { t: 'leaves' }>): Promise<void> => {
    const runs: Position[][] = []
    let run: Position[] = []
    for (const p of task.leaves) {
      const done = await leafOnDisk(task.path, task.rel, p.offset, p.cid)
      if (done === undefined) { run.push(p); continue }
      opts.onBytes(done, true)
      if (run.length > 0) { runs.push(run); run = [] }
    }
    if (run.length > 0) runs.push(run)
    if (runs.length === 0) return
    if (runs.length > 1) { push(runs.map(leaves => ({ ...task, leaves }))); return }
    const leaves = run
    const first = leaves[0] as Position
    const last = leaves[leaves.length - 1] as Position
    await opts.gate()
    if (signal.aborted) throw new AbortedError('pull')
    const release = await streamSlots.acquire(signal)
    const sink = new LeafSink({
      leaves,
      pool,
      shouldStop: opts.isPaused,
      store: async (leaf, data) => {
        await writer.write(task.path, data, leaf.offset)
        await journal.markLeaf(task.rel, leaf.offset, leaf.size, leaf.cid)
        opts.onBytes(leaf.size, false)
      }
    })
    let outcome: RangeOutcome | undefined
    let thrown: unknown
    try {
      outcome = await fetcher.readRange(task.file, first.offset, last.offset + last.size, signal, sink)
    } catch (err) {
      thrown = err
    } finally {
      release()
    }
    try { await sink.drain() } finally { sink.release() }
    let rest: Position[] = sink.remaining
    if (thrown instanceof LeafMismatch) {
      await resolveMismatch(task, thrown, (thrown as { source?: string }).source)
      rest = rest.slice(1)
    } else if (thrown !== undefined && !(thrown instanceof SinkStopped)) {
      throw thrown
    }
    if (rest.length === 0) return
    const restLast = rest[rest.length - 1] as Position
    const toCar = (): Task => ({ t: 'range', root: task.file, path: task.path, rel: task.rel, from: (rest[0] as Position).offset, to: restLast.offset + restLast.size, positions: rest, attempt: 0 })
    if (outcome?.outcome === 'unavailable') push([toCar()])
    else if (outcome?.outcome === 'failed') push([task.attempt + 1 >= CAR_MAX_ATTEMPTS ? toCar() : { ...task, leaves: rest, attempt: task.attempt + 1 }])
    else push([{ ...task, leaves: rest }])
  }

  /**
   * A "leaf" whose bytes did not prove. Its block (verified, from any source)
   * tells why: a leaf whose data differs from what the range source sent means
   * that source lied (it is dropped); an interior node means the size hint
   * misled us, and it is walked like any other node.
   */
  const resolveMismatch = async (task: Extract<Task, { t: 'leaves' }>, m: LeafMismatch, source: string | undefined): Promise<void> => {
    const { cid, offset, size } = m.leaf
    const { bytes, cached } = await fetchNode(cid)
    const node = decodeNode(cid, bytes)
    if (node.type !== 'file') throw new InvalidDagError(`${cid.toString()} is a ${node.type} inside a file (${task.rel || 'root'})`)
    if (node.fileSize !== size) throw new InvalidDagError(`${cid.toString()} holds ${node.fileSize} bytes where its parent declares ${size} (${task.rel || 'root'})`)
    if (node.children.length === 0 && source != null && !Buffer.from(node.data).equals(m.data)) {
      fetcher.blame(source, `sent bytes ${offset}-${offset + size - 1} that do not match block ${cid.toString()}`, cid)
    }
    await writeFilePart({ cid, path: task.path, rel: task.rel, file: task.file }, node, offset, bytes, cached, false)
  }

  /**
   * One CAR stream for a byte range. Interior nodes already cached and leaves
   * already written are expanded or skipped locally first, so a resumed range
   * asks only for what is missing. Blocks arrive verified; one is used only if
   * a parent we hold expects it (order is not trusted, unrequested blocks are
   * ignored). Whatever is still missing when the stream ends, fails or is
   * paused is retried as a narrower range, and finally block by block.
   */
  const handleRange = async (task: Extract<Task, { t: 'range' }>): Promise<void> => {
    const expected = new Map<string, { cid: CID, at: Position[] }>()
    const local: Position[] = [...task.positions]
    const expect = (p: Position): void => {
      if (p.offset >= task.to || p.offset + p.size <= task.from) return
      const key = p.cid.toString()
      const e = expected.get(key)
      if (e != null) e.at.push(p)
      else expected.set(key, { cid: p.cid, at: [p] })
    }
    const place = async (cid: CID, bytes: Uint8Array, p: Position, cached: boolean): Promise<void> => {
      const node = decodeNode(cid, bytes)
      if (node.type !== 'file') throw new InvalidDagError(`${cid.toString()} is a ${node.type} inside a file (${task.rel || 'root'})`)
      if (node.fileSize !== p.size) throw new InvalidDagError(`${cid.toString()} holds ${node.fileSize} bytes where its parent declares ${p.size} (${task.rel || 'root'})`)
      // A node straddling two ranges belongs to the range its first byte is in; the other only walks through it.
      const mine = p.offset >= task.from
      if (node.children.length === 0) {
        if (!mine) return
        // Writes overlap the next blocks' arrival (bounded); the leaf is logged only once its bytes are written.
        await writes.add(async () => {
          if (node.data.byteLength > 0) await writer.write(task.path, node.data, p.offset)
          await journal.markLeaf(task.rel, p.offset, node.data.byteLength, cid)
          opts.onBytes(node.data.byteLength, false)
        })
        return
      }
      if (node.data.byteLength > 0 && mine) {
        await writer.write(task.path, node.data, p.offset)
        opts.onBytes(node.data.byteLength, cached)
      }
      if (!cached) await journal.putBlock(cid, bytes)
      let at = p.offset + node.data.byteLength
      for (const child of node.children) {
        local.push({ cid: child.cid, offset: at, size: child.size })
        at += child.size
      }
    }
    // Expand locally what is already on disk (resume), queue the rest.
    while (local.length > 0) {
      const p = local.pop() as Position
      if (p.offset >= task.to || p.offset + p.size <= task.from) continue
      const done = await leafOnDisk(task.path, task.rel, p.offset, p.cid)
      if (done !== undefined) { if (p.offset >= task.from) opts.onBytes(done, true); continue }
      const cachedBlock = await journal.getBlock(p.cid)
      if (cachedBlock != null) { await place(p.cid, cachedBlock, p, true); continue }
      if (isIdentity(p.cid)) { await place(p.cid, p.cid.multihash.digest, p, false); continue }
      expect(p)
    }
    if (expected.size === 0) return
    await opts.gate()
    const writes = new BoundedWrites(WRITES_IN_FLIGHT_PER_STREAM)
    const from = Math.max(task.from, Math.min(...[...expected.values()].flatMap(e => e.at.map(p => p.offset))))
    const outcome = await fetcher.stream(task.root, { from, to: task.to - 1 }, signal, async (block) => {
      const e = expected.get(block.cid.toString())
      if (e == null) return !opts.isPaused()
      expected.delete(block.cid.toString())
      for (const p of e.at) {
        await place(block.cid, block.bytes, p, false)
        // Children of an interior node are expected next in this same stream.
        while (local.length > 0) {
          const c = local.pop() as Position
          if (isIdentity(c.cid)) await place(c.cid, c.cid.multihash.digest, c, false)
          else expect(c)
        }
      }
      return expected.size > 0 && !opts.isPaused()
    }, () => expected.size).finally(async () => { await writes.drain() })
    if (expected.size === 0) return
    const rest = [...expected.values()].flatMap(e => e.at)
    if (outcome === 'failed' && task.attempt + 1 >= CAR_MAX_ATTEMPTS) {
      push(rest.map(p => ({ t: 'part', cid: p.cid, path: task.path, rel: task.rel, offset: p.offset, size: p.size })))
    } else {
      push([{ ...task, positions: rest, attempt: outcome === 'failed' ? task.attempt + 1 : task.attempt }])
    }
  }

  const push = (tasks: Task[]): void => {
    for (let i = tasks.length - 1; i >= 0; i--) stack.push(tasks[i] as Task)
    wake()
  }

  const addEntries = (task: { path: string, rel: string }, entries: Array<{ name: string, cid: CID }>, names: Set<string>): void => {
    const tasks: Task[] = []
    for (const e of entries) {
      // Names are unique per folder; on case-insensitive disks two names differing in case would collide too.
      const key = e.name.toLowerCase()
      if (names.has(key)) throw new UnsafeNameError(e.name, `a second entry with this name in ${task.rel === '' ? 'the root folder' : task.rel}`)
      names.add(key)
      tasks.push({ t: 'entry', cid: e.cid, path: join(task.path, e.name), rel: task.rel === '' ? e.name : `${task.rel}/${e.name}` })
    }
    push(tasks)
  }

  const handle = async (task: Task): Promise<void> => {
    if (task.t === 'range') { await handleRange(task); return }
    if (task.t === 'leaves') { await handleLeaves(task); return }
    if (task.t !== 'shard') {
      const offset = task.t === 'part' ? task.offset : 0
      const doneSize = await leafOnDisk(task.path, task.rel, offset, task.cid)
      if (doneSize !== undefined) {
        if (task.t === 'entry') { declare(doneSize); files.push(task.path) }
        opts.onBytes(doneSize, true)
        return
      }
    }
    const { bytes, cached } = await fetchNode(task.cid)
    const node = decodeNode(task.cid, bytes)
    switch (task.t) {
      case 'entry':
        if (node.type === 'file') {
          if (task.rel === '') rootType = 'file'
          declare(node.fileSize)
          await createSized(task.path, node.fileSize)
          if (node.fileSize >= CAR_MIN_FILE_BYTES) writer.keepOpen(task.path)
          files.push(task.path)
          await writeFilePart(task, node, 0, bytes, cached, true)
        } else {
          if (task.rel === '') rootType = 'directory'
          await mkdir(task.path, { recursive: true })
          if (!cached) await journal.putBlock(task.cid, bytes)
          const names = new Set<string>()
          if (node.type === 'directory') addEntries(task, node.entries, names)
          else {
            addEntries(task, node.entries, names)
            push(node.shards.map(cid => ({ t: 'shard', cid, path: task.path, rel: task.rel, names })))
          }
        }
        return
      case 'part':
        if (node.type !== 'file') throw new InvalidDagError(`${task.cid.toString()} is a ${node.type} inside a file (${task.rel || 'root'})`)
        if (node.fileSize !== task.size) {
          throw new InvalidDagError(`${task.cid.toString()} holds ${node.fileSize} bytes where its parent declares ${task.size} (${task.rel || 'root'})`)
        }
        await writeFilePart(task, node, task.offset, bytes, cached, false)
        return
      case 'shard':
        if (node.type !== 'hamt') throw new InvalidDagError(`${task.cid.toString()} is a ${node.type} where a HAMT shard was expected (${task.rel || 'root'})`)
        if (!cached) await journal.putBlock(task.cid, bytes)
        addEntries(task, node.entries, task.names)
        push(node.shards.map(cid => ({ t: 'shard', cid, path: task.path, rel: task.rel, names: task.names })))
    }
  }

  const worker = async (): Promise<void> => {
    while (failure === undefined) {
      const task = stack.pop()
      if (task == null) {
        if (active === 0) { wake(); return }
        await new Promise<void>(resolve => waiters.push(resolve))
        continue
      }
      active++
      try {
        await handle(task)
      } catch (err) {
        failure ??= err
      } finally {
        active--
        wake()
      }
    }
    wake()
  }

  try {
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, worker))
    if (failure !== undefined) throw failure
    // Durability before commit: everything written must be on disk before it is moved into place.
    await writer.syncAll(files)
  } finally {
    await writer.closeAll()
  }
  return { type: rootType, totalBytes: declared, files: files.length }
}

/**
 * A leaf of a big file we can read as plain bytes: non-empty, within the
 * block limit, and either a raw block or a dag-pb node whose link declares a
 * subtree barely larger than its bytes (a leaf's framing is < 32 bytes; any
 * link adds more). Only a guess: a wrong one fails the proof and is resolved.
 */
function likelyLeaf (p: Position): boolean {
  if (p.size === 0 || p.size > MAX_BLOCK_BYTES || isIdentity(p.cid)) return false
  if (p.cid.code === CODEC_RAW) return true
  return p.tsize != null && p.tsize >= p.size && p.tsize - p.size < 32
}

/** A counting semaphore. */
class Slots {
  private free: number
  private readonly waiters: Array<() => void> = []
  constructor (n: number) { this.free = Math.max(1, n) }
  async acquire (signal: AbortSignal): Promise<() => void> {
    while (this.free === 0) {
      if (signal.aborted) throw new AbortedError('pull')
      await new Promise<void>(resolve => {
        this.waiters.push(resolve)
        signal.addEventListener('abort', () => resolve(), { once: true })
      })
    }
    this.free--
    let done = false
    return () => {
      if (done) return
      done = true
      this.free++
      this.waiters.shift()?.()
    }
  }
}

/** At most `limit` async jobs at once; `add` waits for a free slot, `drain` for all. The first failure is rethrown. */
class BoundedWrites {
  private readonly limit: number
  private readonly pending = new Set<Promise<void>>()
  private failure: unknown

  constructor (limit: number) { this.limit = limit }

  async add (job: () => Promise<void>): Promise<void> {
    if (this.failure !== undefined) throw this.failure
    while (this.pending.size >= this.limit) await Promise.race(this.pending)
    const p: Promise<void> = job().catch((err: unknown) => { this.failure ??= err }).finally(() => { this.pending.delete(p) })
    this.pending.add(p)
  }

  async drain (): Promise<void> {
    while (this.pending.size > 0) await Promise.race(this.pending)
    if (this.failure !== undefined) throw this.failure
  }
}

/**
 * Positional writes. Big files (fetched as CAR ranges, thousands of leaves)
 * keep one handle open for the whole walk; small files open per write, so a
 * directory of many files never holds many descriptors.
 */
const BACKGROUND_SYNC_BYTES = 64 * 1024 * 1024

/** Writes `data` from byte `at` on, at `offset + at`: a short write (disk full) never passes for a whole one. */
async function writeRest (fh: FileHandle, data: Uint8Array, at: number, offset: number): Promise<void> {
  while (at < data.byteLength) {
    const { bytesWritten } = await fh.write(data, at, data.byteLength - at, offset + at)
    if (bytesWritten === 0) throw new Error(`no bytes written at ${offset + at}`)
    at += bytesWritten
  }
}

interface QueuedWrite { data: Uint8Array, offset: number, resolve: () => void, reject: (err: unknown) => void }
interface WriteQueue { items: QueuedWrite[], running: boolean }

class FileWriter {
  private readonly handles = new Map<string, Promise<FileHandle>>()
  private readonly queues = new Map<string, WriteQueue>()
  private readonly unsynced = new Map<string, number>()
  private readonly syncing = new Set<string>()
  private readonly fsync: boolean
  constructor (fsync: boolean) { this.fsync = fsync }

  keepOpen (path: string): void {
    if (!this.handles.has(path)) this.handles.set(path, open(path, 'r+'))
  }

  async write (path: string, data: Uint8Array, offset: number): Promise<void> {
    const kept = this.handles.get(path)
    if (kept != null) {
      await new Promise<void>((resolve, reject) => {
        let q = this.queues.get(path)
        if (q == null) { q = { items: [], running: false }; this.queues.set(path, q) }
        q.items.push({ data, offset, resolve, reject })
        if (!q.running) void this.drain(path, kept, q)
      })
      return
    }
    const fh = await open(path, 'r+')
    try {
      await writeRest(fh, data, 0, offset)
    } finally {
      await fh.close()
    }
  }

  /**
   * One write at a time per file, contiguous queued writes joined into one
   * writev. Concurrent pwrites to one file fight over its inode lock: measured
   * here, 16 in flight cost 5x the CPU of one at a time for the same GiB.
   */
  private async drain (path: string, kept: Promise<FileHandle>, q: WriteQueue): Promise<void> {
    q.running = true
    try {
      const fh = await kept
      while (q.items.length > 0) {
        const batch = [q.items.shift() as QueuedWrite]
        let end = (batch[0] as QueuedWrite).offset + (batch[0] as QueuedWrite).data.byteLength
        while (batch.length < 64) {
          const i = q.items.findIndex(w => w.offset === end)
          if (i < 0) break
          const [w] = q.items.splice(i, 1) as [QueuedWrite]
          batch.push(w)
          end += w.data.byteLength
        }
        try {
          const base = (batch[0] as QueuedWrite).offset
          const total = end - base
          const written = (await fh.writev(batch.map(w => w.data), base)).bytesWritten
          // A short writev (rare on regular files): finish the rest piece by piece.
          for (const w of batch) {
            const rel = w.offset - base
            await writeRest(fh, w.data, Math.min(Math.max(written - rel, 0), w.data.byteLength), w.offset)
          }
          this.afterWrite(path, fh, total)
          for (const w of batch) w.resolve()
        } catch (err) {
          for (const w of batch) w.reject(err)
        }
      }
    } catch (err) {
      for (const w of q.items.splice(0)) w.reject(err)
    } finally {
      q.running = false
    }
  }

  /** Flushes in the background as we go, so the final fdatasync before the commit has little left to do. */
  private afterWrite (path: string, fh: FileHandle, bytes: number): void {
    if (!this.fsync) return
    const pending = (this.unsynced.get(path) ?? 0) + bytes
    this.unsynced.set(path, pending)
    if (pending >= BACKGROUND_SYNC_BYTES && !this.syncing.has(path)) {
      this.unsynced.set(path, 0)
      this.syncing.add(path)
      fh.datasync().catch(() => {}).finally(() => this.syncing.delete(path))
    }
  }

  /** fdatasync every file written (durability before the commit rename); nothing when fsync is off. */
  async syncAll (paths: string[]): Promise<void> {
    if (!this.fsync) return
    for (const p of paths) {
      const kept = this.handles.get(p)
      if (kept != null) { await (await kept).datasync(); continue }
      const fh = await open(p, 'r+')
      try { await fh.datasync() } finally { await fh.close() }
    }
  }

  async closeAll (): Promise<void> {
    for (const h of this.handles.values()) await (await h.catch(() => undefined))?.close().catch(() => {})
    this.handles.clear()
  }
}

async function createSized (path: string, size: number): Promise<void> {
  // 'a' creates without truncating: on resume the file keeps the bytes already written.
  const fh = await open(path, 'a')
  try {
    const st = await fh.stat()
    if (st.size !== size) await fh.truncate(size)
  } finally {
    await fh.close()
  }
}
