/**
 * A run of leaves read as one plain byte range of the file, each leaf proved
 * against its CID before it is written (LeafSink). Leaves already on disk
 * are skipped; a leaf already written elsewhere in this pull (or being read
 * by another task, or repeated in this run) is copied from there once it is
 * (LeafPlaces), so each distinct leaf is read once. What a failed read did not deliver is read again (another
 * source, or the same after a strike), and after CAR_MAX_ATTEMPTS, or when no
 * source serves byte ranges, it goes to trustless CAR ranges instead.
 */
import { AbortedError } from '../../../errors.ts'
import { logger } from '../../../log.ts'
import type { RangeOutcome } from '../../fetcher.ts'
import { LeafMismatch, LeafSink, SinkStopped } from '../../leaf-sink.ts'
import { decodeNode } from '../../../ipld/unixfs.ts'
import type { WalkContext } from '../context.ts'
import type { LeafPlace } from '../leaf-places.ts'
import { leafOnDisk } from '../resume.ts'
import { CAR_MAX_ATTEMPTS, type Position, type Task, type TaskOf } from '../tasks.ts'
import { fileNodeOf, writeFilePart } from './part.ts'

const log = logger('fetch')

export async function handleLeaves (ctx: WalkContext, task: TaskOf<'leaves'>): Promise<void> {
  // Counted as unstarted (tail.ts) from its push until it reads or ends here.
  let counted = task.hedgeOf == null
  const started = (): void => { if (counted) { counted = false; ctx.tail.unstarted-- } }
  try {
    if (task.hedgeOf != null) await readHedge(ctx, task, started)
    else await readLeaves(ctx, task, started)
  } finally {
    started()
  }
}

/**
 * A hedge re-asks another read's leaves of a second source: what neither has
 * stored yet, read directly (never through LeafPlaces, where the raced read
 * holds the claims). Only its first contiguous run: a hedge is opportunistic.
 */
async function readHedge (ctx: WalkContext, task: TaskOf<'leaves'>, started: () => void): Promise<void> {
  const open = task.leaves.filter(p => task.hedgeOf?.claims?.has(p.offset) !== true)
  const first = contiguousRuns(open)[0]
  if (first != null) ctx.push(await readRun(ctx, task, first, started))
}

async function readLeaves (ctx: WalkContext, task: TaskOf<'leaves'>, started: () => void): Promise<void> {
  const want: Position[] = []
  for (const p of task.leaves) {
    const done = await leafOnDisk(ctx.journal, task.path, task.rel, p.offset, p.cid)
    if (done === undefined) { want.push(p); continue }
    ctx.placed(p.cid, task.path, p.offset, done)
    ctx.opts.onBytes(done, true)
  }
  // Claimed all at once (no await in between): a leaf written or being read
  // elsewhere in this pull, or repeated within this run, is copied once that
  // read has written it, never read twice.
  const read: Position[] = []
  const claimed: Position[] = []
  const copies: Array<{ p: Position, from: LeafPlace | Promise<LeafPlace | undefined> }> = []
  for (const p of want) {
    const from = ctx.leaves.lookup(p.cid)
    if (from === undefined) {
      if (ctx.leaves.claim(p.cid)) claimed.push(p)
      read.push(p)
    } else if (from instanceof Promise && task.avoid != null) {
      // Stolen work (tail.ts) comes from a read that still holds these claims: waiting for
      // that read would undo the steal, so it is read here (a record settles the claim).
      read.push(p)
    } else {
      copies.push({ p, from })
    }
  }
  let follow: Task[] = []
  try {
    const outcomes = await Promise.all(contiguousRuns(read).map(async leaves => await readRun(ctx, task, leaves, started)))
    follow = outcomes.flat()
  } finally {
    // What was not delivered is let go before we wait on anyone, so every wait ends.
    for (const p of claimed) ctx.leaves.release(p.cid)
  }
  ctx.push(follow)
  const refetch: Position[] = []
  for (const { p, from } of copies) {
    const place = from instanceof Promise ? await from : from
    if (place == null || !await ctx.copyLeaf(task.path, task.rel, p, place)) refetch.push(p)
  }
  // The read they waited for failed (its rest is queued again) or the first copy no longer proves: read them.
  if (refetch.length > 0) ctx.push(contiguousRuns(refetch).map(leaves => ({ ...task, leaves, attempt: 0 })))
}

/** `leaves` (in offset order) cut where one does not start where the previous ends: a byte range is contiguous. */
function contiguousRuns (leaves: Position[]): Position[][] {
  const runs: Position[][] = []
  let run: Position[] = []
  for (const p of leaves) {
    const prev = run[run.length - 1]
    if (prev != null && prev.offset + prev.size !== p.offset) { runs.push(run); run = [] }
    run.push(p)
  }
  if (run.length > 0) runs.push(run)
  return runs
}

/** Reads one contiguous run of leaves as a byte range; returns the tasks for what it did not deliver. */
async function readRun (ctx: WalkContext, task: TaskOf<'leaves'>, leaves: Position[], started: () => void): Promise<Task[]> {
  const { signal } = ctx
  const hedgeOf = task.hedgeOf
  const first = leaves[0] as Position
  const last = leaves[leaves.length - 1] as Position
  await ctx.opts.gate()
  if (signal.aborted) throw new AbortedError('pull')
  ctx.retune()
  const read = await ctx.streams.add(async (): Promise<{ sink: LeafSink, outcome?: RangeOutcome, thrown?: unknown }> => {
    if (signal.aborted) throw new AbortedError('pull')
    // The leaf buffers are taken only with a slot: `streams` reads hold them, never every queued run.
    const sink = new LeafSink({
      leaves,
      pool: ctx.pool,
      shouldStop: ctx.opts.isPaused,
      store: async (leaf, data) => {
        await ctx.writer.write(task.path, data, leaf.offset)
        ctx.journal.noteLeaf(task.rel, leaf.offset, leaf.size, leaf.cid)
        ctx.placed(leaf.cid, task.path, leaf.offset, leaf.size)
        ctx.opts.onBytes(leaf.size, false)
      }
    })
    if (hedgeOf != null) {
      // Both reads share one set of claims: the first proved copy of a leaf is stored.
      const claims = hedgeOf.claims ?? new Set<number>()
      sink.claims = hedgeOf.claims = claims
      sink.partner = hedgeOf
      hedgeOf.partner = sink
    }
    const active = ctx.tail.add(task, sink)
    started()
    try {
      // Pieces still queued for every source twice over: the bulk of the pull (fill every window); fewer: the tail.
      const fill = ctx.tail.unstarted >= 2 * ctx.fetcher.rangeSources
      return { sink, outcome: await ctx.fetcher.readRange(task.file, first.offset, last.offset + last.size, signal, sink, { avoid: task.avoid, wait: hedgeOf == null, fill }) }
    } catch (thrown) {
      return { sink, thrown }
    } finally {
      ctx.tail.remove(active)
    }
  })
  const { sink, outcome } = read
  try { await sink.drain() } finally { sink.release() }
  if (hedgeOf != null) {
    // A hedge leaves whatever it did not store to the read it raced (which is cancelled once all are stored).
    if (sink.stored > 0 && hedgeOf.remaining.length === 0) ctx.fetcher.tail.hedgeWins++
    if (read.thrown !== undefined && !(read.thrown instanceof SinkStopped) && !(read.thrown instanceof LeafMismatch)) throw read.thrown
    return []
  }
  // Leaves a hedge of this read stored already are done; deferred ones were given back (a source that cuts long answers).
  let rest: Position[] = [...sink.remaining, ...sink.deferred].filter(l => sink.claims?.has(l.offset) !== true)
  if (read.thrown instanceof LeafMismatch) {
    const bad = read.thrown.leaf
    ctx.leaves.release(bad.cid)
    await resolveMismatch(ctx, task, read.thrown, (read.thrown as { source?: string }).source)
    rest = rest.filter(l => l.offset !== bad.offset)
  } else if (read.thrown !== undefined && !(read.thrown instanceof SinkStopped)) {
    throw read.thrown
  }
  if (rest.length === 0) return []
  const restLast = rest[rest.length - 1] as Position
  const toCar = (): Task => ({ t: 'range', root: task.file, path: task.path, rel: task.rel, from: (rest[0] as Position).offset, to: restLast.offset + restLast.size, positions: rest, attempt: 0 })
  if (outcome?.outcome === 'unavailable') return [toCar()]
  if (outcome?.outcome === 'failed') {
    // A read that stored leaves before failing made progress: the piece's attempts start over.
    const attempt = sink.stored > 0 ? 0 : task.attempt
    const again = attempt + 1 < CAR_MAX_ATTEMPTS
    log('%s: bytes %d-%d from %s failed (attempt %d); %s', task.rel || 'root', (rest[0] as Position).offset, restLast.offset + restLast.size - 1, outcome.source, attempt + 1, again ? 'reading them again' : 'fetching them as CAR ranges')
    return [again ? { ...task, leaves: rest, attempt: attempt + 1, avoid: undefined } : toCar()]
  }
  return [{ ...task, leaves: rest, avoid: undefined }]
}

/**
 * A "leaf" whose bytes did not prove. Its block (verified, from any source)
 * tells why: a leaf whose data differs from what the range source sent means
 * that source lied (it is dropped); an interior node means the size hint
 * misled us, and it is walked like any other node.
 */
async function resolveMismatch (ctx: WalkContext, task: TaskOf<'leaves'>, m: LeafMismatch, source: string | undefined): Promise<void> {
  const { cid, offset, size } = m.leaf
  const { bytes, cached } = await ctx.fetchNode(cid)
  const node = fileNodeOf(cid, decodeNode(cid, bytes), size, task.rel)
  if (node.children.length === 0 && source != null && !Buffer.from(node.data).equals(m.data)) {
    ctx.fetcher.blame(source, `sent bytes ${offset}-${offset + size - 1} that do not match block ${cid.toString()}`, cid)
  } else if (node.children.length > 0) {
    log('%s: %s at %d is an interior node (its size hint looked like a leaf); walking it', task.rel || 'root', cid.toString(), offset)
  }
  await writeFilePart(ctx, { cid, path: task.path, rel: task.rel, file: task.file }, node, offset, cached, false)
}
