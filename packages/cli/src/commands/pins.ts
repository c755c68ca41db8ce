/** `pin`, `unpin`, `pins`, `gc`: what the local kubo keeps. */
import {
  collectGarbage, DaemonManager, DaemonNotRunningError, InvalidArgumentError, parseCid, pinAdd, pinList, pinPending, pinRm, type KuboRpc
} from '@citrate-ipfs/core'
import { formatBytes } from '@citrate-ipfs/contract/plain'
import type { Context } from '../context.ts'
import { ProgressBar } from '../output.ts'
import { UsageError } from '../errors.ts'
import { describePendingPins } from './daemon.ts'
import { registryFor } from './models.ts'

async function rpcOf (ctx: Context): Promise<KuboRpc> {
  return await new DaemonManager({ config: ctx.config }).rpc()
}

export async function pinCommand (ctx: Context, opts: { timeout?: string, name?: string, registered?: boolean }, cid: string | undefined): Promise<void> {
  const timeoutSeconds = opts.timeout != null ? Number(opts.timeout) : ctx.config.ipfs.pin_timeout_seconds
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new InvalidArgumentError(`--timeout must be a positive number of seconds (got "${opts.timeout ?? ''}")`)
  if ((cid == null) === (opts.registered !== true)) throw new UsageError('give a CID to pin, or --registered (not both)')
  // A mistyped CID is said before "start the daemon" is.
  if (cid != null) parseCid(cid)
  const rpc = await rpcOf(ctx)
  if (cid == null) {
    const r = await pinPending({ rpc, registry: registryFor(ctx), paths: ctx.config.paths, timeoutMs: timeoutSeconds * 1000 })
    const lines = describePendingPins(r)
    ctx.out.result(r, lines.length > 0 ? lines.join('\n') : 'no registered model is waiting for a pin')
    if (r.failed.length > 0) process.exitCode = 1
    return
  }
  const bar = ctx.out.interactive ? new ProgressBar(ctx.out.stderr, `pinning ${cid.slice(0, 16)}…`) : undefined
  const r = await pinAdd(rpc, cid, {
    timeoutSeconds,
    name: opts.name,
    onProgress: (e) => {
      ctx.out.event(e)
      if (e.type === 'citrate:pin:progress') bar?.update(e.bytes ?? 0, undefined, `${e.blocks} blocks`)
    }
  }).finally(() => bar?.done())
  ctx.out.result(r, r.alreadyPinned ? `${r.cid} was already pinned` : `pinned ${r.cid} (${r.blocks} blocks${r.bytes != null ? `, ${formatBytes(r.bytes)}` : ''})`)
}

export async function unpinCommand (ctx: Context, opts: { force?: boolean }, cid: string): Promise<void> {
  parseCid(cid)
  const models = await registryFor(ctx).list()
  const r = await pinRm(await rpcOf(ctx), cid, { models, force: opts.force })
  if (r.models.length > 0) ctx.out.warn(`unpinned content used by ${r.models.join(', ')}; kubo may now garbage-collect it`)
  ctx.out.result({ unpinned: r.cid, models: r.models }, `unpinned ${r.cid}`)
}

export async function pinsCommand (ctx: Context): Promise<void> {
  const rpc = await rpcOf(ctx)
  const models = await registryFor(ctx).list()
  let n = 0
  // Streamed: one line per pin as kubo lists it, never the whole set in memory.
  for await (const p of pinList(rpc, { models })) {
    n++
    if (ctx.out.json) ctx.out.stdout.write(JSON.stringify(p) + '\n')
    else ctx.out.stdout.write(`${p.cid}  ${p.type}${p.name != null ? `  name=${p.name}` : ''}${p.models.length > 0 ? `  models=${p.models.join(',')}` : ''}\n`)
  }
  if (!ctx.out.json && n === 0) ctx.out.stdout.write('no pins\n')
}

export async function gcCommand (ctx: Context, opts: { dryRun?: boolean }): Promise<void> {
  let rpc: KuboRpc | undefined
  try {
    rpc = await rpcOf(ctx)
  } catch (err) {
    if (!(err instanceof DaemonNotRunningError)) throw err
    ctx.out.warn('the daemon is not running: only stale partial downloads are cleaned')
  }
  const r = await collectGarbage(rpc, [ctx.config.paths.models, ctx.config.paths.datasets, ctx.config.paths.checkpoints, ctx.config.paths.assets], { dryRun: opts.dryRun, citrateHome: ctx.config.paths.home })
  ctx.out.result(r, `${opts.dryRun === true ? 'would free' : 'freed'} ${r.blocksFreed} kubo blocks (${formatBytes(r.bytesFreed)}); ${r.partialFiles.length} stale partial file(s), ${formatBytes(r.partialBytes)}`)
}
