/**
 * One CAR stream for a byte range of a file. Interior nodes already cached
 * and leaves already written (here, or the same leaf elsewhere in this pull:
 * copied) are expanded or skipped locally first, so a range asks only for
 * what is missing. Blocks arrive verified; one is
 * used only if a parent we hold expects it (order is not trusted, unrequested
 * blocks are ignored). Whatever is still missing when the stream ends, fails
 * or is paused is retried as a narrower range, and finally block by block.
 */
import PQueue from 'p-queue'
import type { CID } from 'multiformats/cid'
import { logger } from '../../../log.ts'
import { decodeNode } from '../../../ipld/unixfs.ts'
import { isIdentity } from '../../../ipld/verify-block.ts'
import type { WalkContext } from '../context.ts'
import { leafOnDisk } from '../resume.ts'
import { CAR_MAX_ATTEMPTS, type Position, type TaskOf } from '../tasks.ts'
import { fileNodeOf } from './part.ts'

const log = logger('fetch')

/** Leaf writes a CAR stream may have pending while it reads on (≤ 2 MiB each). */
const WRITES_IN_FLIGHT_PER_STREAM = 8

export async function handleRange (ctx: WalkContext, task: TaskOf<'range'>): Promise<void> {
  const expected = new Map<string, { cid: CID, at: Position[] }>()
  const local: Position[] = [...task.positions]
  const writes = new LeafWrites()
  const expect = (p: Position): void => {
    if (p.offset >= task.to || p.offset + p.size <= task.from) return
    const key = p.cid.toString()
    const e = expected.get(key)
    if (e != null) e.at.push(p)
    else expected.set(key, { cid: p.cid, at: [p] })
  }
  const place = async (cid: CID, bytes: Uint8Array, p: Position, cached: boolean): Promise<void> => {
    const node = fileNodeOf(cid, decodeNode(cid, bytes), p.size, task.rel)
    // A node straddling two ranges belongs to the range its first byte is in; the other only walks through it.
    const mine = p.offset >= task.from
    if (node.children.length === 0) {
      if (!mine) return
      // Writes overlap the next blocks' arrival (bounded); the leaf is logged only once its bytes are written.
      await writes.add(async () => {
        if (node.data.byteLength > 0) await ctx.writer.write(task.path, node.data, p.offset)
        await ctx.journal.markLeaf(task.rel, p.offset, node.data.byteLength, cid)
        ctx.placed(cid, task.path, p.offset, node.data.byteLength)
        ctx.opts.onBytes(node.data.byteLength, false)
      })
      return
    }
    if (node.data.byteLength > 0 && mine) {
      await ctx.writer.write(task.path, node.data, p.offset)
      ctx.opts.onBytes(node.data.byteLength, cached)
    }
    if (!cached) await ctx.journal.putBlock(cid, bytes)
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
    const done = await leafOnDisk(ctx.journal, task.path, task.rel, p.offset, p.cid)
    if (done !== undefined) { if (p.offset >= task.from) { ctx.placed(p.cid, task.path, p.offset, done); ctx.opts.onBytes(done, true) } continue }
    const cachedBlock = await ctx.journal.getBlock(p.cid)
    if (cachedBlock != null) { await place(p.cid, cachedBlock, p, true); continue }
    // A leaf already written elsewhere in this pull is copied from there (the stream then need not reach it).
    const from = ctx.leaves.lookup(p.cid)
    if (from != null && !(from instanceof Promise) && (p.offset < task.from || await ctx.copyLeaf(task.path, task.rel, p, from))) continue
    if (isIdentity(p.cid)) { await place(p.cid, p.cid.multihash.digest, p, false); continue }
    expect(p)
  }
  if (expected.size === 0) { await writes.drain(); return }
  await ctx.opts.gate()
  const from = Math.max(task.from, Math.min(...[...expected.values()].flatMap(e => e.at.map(p => p.offset))))
  const outcome = await ctx.fetcher.stream(task.root, { from, to: task.to - 1 }, ctx.signal, async (block) => {
    const e = expected.get(block.cid.toString())
    if (e == null) return !ctx.opts.isPaused()
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
    return expected.size > 0 && !ctx.opts.isPaused()
  }, () => expected.size).finally(async () => { await writes.drain() })
  if (expected.size === 0) return
  const rest = [...expected.values()].flatMap(e => e.at)
  if (outcome === 'failed' && task.attempt + 1 >= CAR_MAX_ATTEMPTS) {
    log('%s: CAR range %d-%d failed %d times; fetching its %d missing blocks one by one', task.rel || 'root', task.from, task.to - 1, CAR_MAX_ATTEMPTS, rest.length)
    ctx.push(rest.map(p => ({ t: 'part', cid: p.cid, path: task.path, rel: task.rel, offset: p.offset, size: p.size })))
  } else {
    ctx.push([{ ...task, positions: rest, attempt: outcome === 'failed' ? task.attempt + 1 : task.attempt }])
  }
}

/** A stream's leaf writes: at most WRITES_IN_FLIGHT_PER_STREAM at once, the first failure rethrown. */
class LeafWrites {
  private readonly queue = new PQueue({ concurrency: WRITES_IN_FLIGHT_PER_STREAM })
  private failure: { error: unknown } | undefined

  /** Resolves once `job` has started: the stream reads on only while a write slot is free. */
  async add (job: () => Promise<void>): Promise<void> {
    if (this.failure !== undefined) throw this.failure.error
    void this.queue.add(async () => {
      // Recorded before the job settles, so `drain` can never miss it.
      try { await job() } catch (error) { this.failure ??= { error } }
    })
    if (this.queue.size > 0) await this.queue.onSizeLessThan(1)
  }

  /** Waits for every write; rethrows the first failure. */
  async drain (): Promise<void> {
    await this.queue.onIdle()
    if (this.failure !== undefined) throw this.failure.error
  }
}
