/**
 * A named node: the root, or an entry of a folder. A file is created at its
 * declared size and its root node placed; a folder is created and its entries
 * (and, for a HAMT folder, its shards) queued; a symlink is set aside for
 * after the walk (symlinks.ts).
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { CID } from 'multiformats/cid'
import { UnsupportedContentError } from '../../../errors.ts'
import { claimEntryName, decodeNode } from '../../../ipld/unixfs.ts'
import type { WalkContext } from '../context.ts'
import { createSized } from '../file-writer.ts'
import { leafOnDisk } from '../resume.ts'
import { CAR_MIN_FILE_BYTES, type Task, type TaskOf } from '../tasks.ts'
import { writeFilePart } from './part.ts'

export async function handleEntry (ctx: WalkContext, task: TaskOf<'entry'>): Promise<void> {
  // A one-leaf file already on disk.
  const done = await leafOnDisk(ctx.journal, task.path, task.rel, 0, task.cid)
  if (done !== undefined) {
    ctx.placed(task.cid, task.path, 0, done)
    ctx.declare(done)
    ctx.files.push(task.path)
    ctx.opts.onBytes(done, true)
    return
  }
  // An identical file met earlier in this walk: not even its root is read again.
  const size = task.rel === '' ? undefined : ctx.duplicates.again(task.cid.toString(), task.path)
  if (size !== undefined) { ctx.declare(size); return }
  const { bytes, cached } = await ctx.fetchNode(task.cid)
  const node = decodeNode(task.cid, bytes)
  if (node.type === 'symlink') {
    if (task.rel === '') throw new UnsupportedContentError(`${task.cid.toString()} is a symlink (to ${JSON.stringify(node.target)}) with no content of its own; pull the folder that holds it`)
    // Written (or reported) once the walk has written everything (symlinks.ts).
    ctx.symlinks.add(task.path, task.rel, node.target)
    return
  }
  if (node.type === 'file') {
    if (task.rel === '') ctx.rootType = 'file'
    ctx.declare(node.fileSize)
    // A file already met in this folder tree: linked to that one once the walk is done (duplicates.ts), nothing fetched.
    if (task.rel !== '' && !ctx.duplicates.claim(task.cid.toString(), task.path, node.fileSize)) return
    await createSized(task.path, node.fileSize)
    if (node.fileSize >= CAR_MIN_FILE_BYTES) ctx.writer.keepOpen(task.path)
    ctx.files.push(task.path)
    await writeFilePart(ctx, task, node, 0, cached, true)
    return
  }
  if (task.rel === '') ctx.rootType = 'directory'
  await mkdir(task.path, { recursive: true })
  const names = new Set<string>()
  pushEntries(ctx, task, node.entries, names)
  if (node.type === 'hamt') ctx.push(node.shards.map(cid => ({ t: 'shard', cid, path: task.path, rel: task.rel, names })))
}

/** Queues a folder's entries; `names` holds the folder's names so far (all its HAMT shards share it). */
export function pushEntries (ctx: WalkContext, folder: { path: string, rel: string }, entries: Array<{ name: string, cid: CID }>, names: Set<string>): void {
  const tasks: Task[] = []
  for (const e of entries) {
    // Names are unique per folder, case-insensitively (as at-rest verify checks them).
    claimEntryName(names, e.name, folder.rel)
    tasks.push({ t: 'entry', cid: e.cid, path: join(folder.path, e.name), rel: folder.rel === '' ? e.name : `${folder.rel}/${e.name}` })
  }
  ctx.push(tasks)
}
