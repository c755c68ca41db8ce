/**
 * Walks a UnixFS DAG ourselves and writes each file's bytes at their offsets
 * into the pull's `content` path. Each task kind has a handler of its own in
 * tasks/ (one per kind, the way ipfs-unixfs-exporter has one resolver per
 * node kind); they share one WalkContext and queue their follow-up work on a
 * depth-first scheduler (scheduler.ts: later pushes first, so writes are
 * mostly sequential) running `concurrency` tasks at once. p-queue is the one
 * concurrency primitive: the scheduler's workers, the byte-range read slots
 * and each CAR stream's bounded leaf writes.
 *
 * Nothing is fetched twice (context.ts, leaf-places.ts, duplicates.ts): a
 * block wanted by several tasks at once is looked up once, an interior block
 * is cached as it arrives, a repeated leaf is copied from where it was
 * written, and an identical file in a folder is linked to the first.
 *
 * Several sources work at once (fetcher.ts, source-pool.ts): big files go
 * out as pieces sized so every source has work (WalkContext.pieceBytes), and
 * at the end the slowest read is split or hedged (tail.ts).
 *
 * Memory bound: at most `concurrency` (default 16 with several sources, 8
 * with one) blocks (≤ 2 MiB each) are held at once; byte-range reads add
 * `streams` (default 16 with several answering range sources, 4 with one;
 * shared by ALL sources, whatever their windows) × about 1 MiB of leaf buffers (at least 3
 * leaves each, taken only once a read holds one of the `streams` slots; a
 * hedge is one more read of the same bound) and a pool of ≤ 8 MiB of spare
 * ones: ≈ 24 MiB of buffers with the defaults, a pull stays < 150 MB RSS; each CAR stream adds its ≤ 8 leaf writes in
 * flight (≤ 2 MiB each); plus the stack of pending tasks, which depth-first
 * order keeps at about depth × links-per-node for a file (≈ 3 × 174 for a
 * 20 GB kubo file), plus, for directories, one pending entry per
 * not-yet-visited name; plus the resume set (one short string per leaf found
 * on disk at the start). Never a whole file or DAG.
 *
 * Every size is cross-checked: a child's bytes must be exactly its parent's
 * blocksize, so bytes can never land outside the file or at a wrong offset.
 * The first failure stops the walk: no queued task starts after it, running
 * ones finish, the files are closed, and it is rethrown.
 */
import { WalkContext, type WalkOptions } from './context.ts'
import { DepthFirstScheduler } from './scheduler.ts'
import type { Task } from './tasks.ts'
import { handleEntry } from './tasks/entry.ts'
import { handleLeaves } from './tasks/leaves.ts'
import { handlePart } from './tasks/part.ts'
import { handleRange } from './tasks/range.ts'
import { handleShard } from './tasks/shard.ts'
import type { SkippedSymlink } from './symlinks.ts'
import { logger } from '../../log.ts'

const log = logger('fetch')

export type { WalkOptions } from './context.ts'
export type { SkippedSymlink, SymlinkMode } from './symlinks.ts'

export interface WalkResult {
  type: 'file' | 'directory'
  totalBytes: number
  files: number
  /** Symlinks written as links (inside the folder). */
  symlinks: number
  /** Symlinks not written: pointing outside the folder (or, where links cannot be made, with no copyable target). */
  skippedSymlinks: SkippedSymlink[]
}

type Handler = (ctx: WalkContext, task: Task) => Promise<void>

/** One handler per task kind. */
const HANDLERS: { [K in Task['t']]: (ctx: WalkContext, task: Extract<Task, { t: K }>) => Promise<void> } = {
  entry: handleEntry,
  part: handlePart,
  leaves: handleLeaves,
  range: handleRange,
  shard: handleShard
}

export async function walkDag (opts: WalkOptions): Promise<WalkResult> {
  const scheduler = new DepthFirstScheduler<Task>(opts.concurrency, async (task) => {
    await (HANDLERS[task.t] as Handler)(ctx, task)
  })
  const ctx = new WalkContext(opts, (tasks) => { scheduler.push(tasks) })
  let linked = 0
  let symlinks = 0
  try {
    ctx.push([{ t: 'entry', cid: opts.root, path: opts.journal.contentPath, rel: '' }])
    ctx.tail.start()
    await scheduler.run()
    await ctx.journal.flush()
    // Identical files in a folder were fetched once: the other names are linked to it now.
    const dup = await ctx.duplicates.materialize(d => { ctx.opts.onBytes(d.size, true) })
    ctx.files.push(...dup.copied)
    linked = dup.linked
    // Symlinks last: a link (or the copy standing in for one) needs its target written.
    const links = await ctx.symlinks.materialize(opts.journal.contentPath)
    ctx.files.push(...links.copiedFiles)
    symlinks = links.links
    // Durability before commit: everything written must be on disk before it is moved into place.
    const syncStart = Date.now()
    await ctx.writer.syncAll(ctx.files)
    log('walk done; final fdatasync of %d file(s) took %d ms', ctx.files.length, Date.now() - syncStart)
  } finally {
    ctx.tail.stop()
    await ctx.writer.closeAll()
  }
  return { type: ctx.rootType, totalBytes: ctx.declared, files: ctx.files.length + linked, symlinks, skippedSymlinks: ctx.symlinks.skipped }
}
