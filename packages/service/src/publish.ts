/**
 * ipfs_add: publish a file or folder of this machine to the local kubo, pinned
 * (core's addToKubo: the CID `ipfs add` gives with kubo's defaults), with
 * publish-progress events by path. The path must be absolute: the service's
 * working directory means nothing to the person who typed it.
 */
import { stat } from 'node:fs/promises'
import { isAbsolute } from 'node:path'
import { addToKubo, checkPinName, InvalidArgumentError, type DaemonManager } from '@citrate-ipfs/core'
import type { CommandArgs, PublishView, ServiceEvent } from '@citrate-ipfs/contract'

export async function publishPath (manager: DaemonManager, args: CommandArgs<'ipfs_add'>, emit: (e: ServiceEvent) => void): Promise<PublishView> {
  const path = args.path.trim()
  if (!isAbsolute(path)) throw new InvalidArgumentError(`path: ${JSON.stringify(path)} is not an absolute path (give the full path of a file or folder on this computer)`)
  const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new InvalidArgumentError(`path: ${path}: ${err.code === 'ENOENT' ? 'no such file or folder' : err.code === 'EACCES' ? 'not allowed to read it' : err.message}`)
  })
  if (!st.isFile() && !st.isDirectory()) throw new InvalidArgumentError(`path: ${path} is neither a file nor a folder`)
  if (args.name != null && args.name !== '') checkPinName(args.name)
  const rpc = await manager.rpc()
  let total = 0
  const r = await addToKubo(rpc, path, {
    pin: true,
    ...(args.name != null && args.name !== '' ? { pinName: args.name } : {}),
    onProgress: (e) => {
      if (e.type === 'citrate:publish:start') total = e.totalBytes
      if (e.type === 'citrate:publish:bytes') emit({ event: 'publish-progress', data: { path, bytes: e.bytes, total_bytes: e.totalBytes, done: false } })
    }
  })
  emit({ event: 'publish-progress', data: { path, bytes: r.size, total_bytes: Math.max(total, r.size), done: true, cid: r.cid } })
  return { cid: r.cid, path, root_name: r.rootName, size_bytes: r.size, is_directory: r.isDirectory, blocks: r.blocks, pinned: true }
}
