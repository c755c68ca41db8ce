/** A HAMT shard of a sharded folder: its entries and its sub-shards are queued. */
import { InvalidDagError } from '../../../errors.ts'
import { decodeNode } from '../../../ipld/unixfs.ts'
import type { WalkContext } from '../context.ts'
import type { TaskOf } from '../tasks.ts'
import { pushEntries } from './entry.ts'

export async function handleShard (ctx: WalkContext, task: TaskOf<'shard'>): Promise<void> {
  // fetchNode caches the shard: a shard is fetched once, whoever asks.
  const { bytes } = await ctx.fetchNode(task.cid)
  const node = decodeNode(task.cid, bytes)
  if (node.type !== 'hamt') throw new InvalidDagError(`${task.cid.toString()} is a ${node.type} where a HAMT shard was expected (${task.rel || 'root'})`)
  pushEntries(ctx, task, node.entries, task.names)
  ctx.push(node.shards.map(cid => ({ t: 'shard', cid, path: task.path, rel: task.rel, names: task.names })))
}
