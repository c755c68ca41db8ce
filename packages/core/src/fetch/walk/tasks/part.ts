/**
 * A node at an offset of a file, and what placing any file node means: its
 * own bytes written at its offset, a leaf logged, an interior node cached and
 * its children queued at their offsets. Inside a big file the children go out
 * as byte-range runs instead of one task per block.
 */
import type { CID } from 'multiformats/cid'
import { InvalidDagError } from '../../../errors.ts'
import { decodeNode, type DecodedNode } from '../../../ipld/unixfs.ts'
import { CODEC_RAW, isIdentity, MAX_BLOCK_BYTES } from '../../../ipld/verify-block.ts'
import type { WalkContext } from '../context.ts'
import { leafOnDisk } from '../resume.ts'
import { CAR_MIN_FILE_BYTES, type Position, type Task, type TaskOf } from '../tasks.ts'

type FileNode = Extract<DecodedNode, { type: 'file' }>

export async function handlePart (ctx: WalkContext, task: TaskOf<'part'>): Promise<void> {
  const done = await leafOnDisk(ctx.journal, task.path, task.rel, task.offset, task.cid)
  if (done !== undefined) { ctx.placed(task.cid, task.path, task.offset, done); ctx.opts.onBytes(done, true); return }
  const { bytes, cached } = await ctx.fetchNode(task.cid)
  const node = decodeNode(task.cid, bytes)
  await writeFilePart(ctx, task, fileNodeOf(task.cid, node, task.size, task.rel), task.offset, cached, false)
}

/**
 * `node` as the file part its parent declares: a file node of exactly
 * `size` bytes, so bytes can never land outside the file or at a wrong offset.
 */
export function fileNodeOf (cid: CID, node: DecodedNode, size: number, rel: string): FileNode {
  if (node.type !== 'file') throw new InvalidDagError(`${cid.toString()} is a ${node.type} inside a file (${rel || 'root'})`)
  if (node.fileSize !== size) throw new InvalidDagError(`${cid.toString()} holds ${node.fileSize} bytes where its parent declares ${size} (${rel || 'root'})`)
  return node
}

/**
 * Places a verified file node at `offset` (from ctx.fetchNode, which has
 * already cached an interior one); `isRoot` for a file's root node, which decides byte ranges.
 */
export async function writeFilePart (ctx: WalkContext, task: { cid: CID, path: string, rel: string, file?: CID }, node: FileNode, offset: number, cached: boolean, isRoot: boolean): Promise<void> {
  if (node.data.byteLength > 0) await ctx.writer.write(task.path, node.data, offset)
  if (node.children.length === 0) {
    await ctx.journal.markLeaf(task.rel, offset, node.data.byteLength, task.cid)
    ctx.placed(task.cid, task.path, offset, node.data.byteLength)
    ctx.opts.onBytes(node.data.byteLength, false)
    return
  }
  if (node.data.byteLength > 0) ctx.opts.onBytes(node.data.byteLength, cached)
  let at = offset + node.data.byteLength
  const positions: Position[] = []
  for (const child of node.children) {
    positions.push({ cid: child.cid, offset: at, size: child.size, tsize: child.tsize })
    at += child.size
  }
  const file = isRoot && ctx.opts.rangeBytes > 0 && node.fileSize >= CAR_MIN_FILE_BYTES ? task.cid : task.file
  if (file != null) {
    ctx.push(groupPositions(ctx.pieceBytes(isRoot ? ctx.fileSize(file, node.fileSize) : ctx.fileSize(file)), file, task.path, task.rel, positions))
    return
  }
  ctx.push(positions.map(p => ({ t: 'part', cid: p.cid, path: task.path, rel: task.rel, offset: p.offset, size: p.size })))
}

/**
 * A big file's children in order: runs of likely leaves become byte-range
 * tasks of about `rangeBytes`; anything else (an interior node, an empty or
 * identity leaf) is fetched as a node and its children grouped the same way.
 */
function groupPositions (rangeBytes: number, file: CID, path: string, rel: string, positions: Position[]): Task[] {
  const span = Math.max(rangeBytes, 1024 * 1024)
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
