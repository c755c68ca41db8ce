import { DaemonManager, toStatusView } from '@citrate-ipfs/core'
import type { Context } from '../context.ts'
import { describeStatus } from './status.ts'

export async function daemonStart (ctx: Context): Promise<void> {
  const manager = new DaemonManager({ config: ctx.config })
  const { status, adopted } = await manager.start({
    onProgress: (e) => {
      ctx.out.event(e)
      if (ctx.out.interactive && e.type === 'citrate:daemon:init') ctx.out.stderr.write(`initializing kubo repo at ${e.repo}\n`)
      if (ctx.out.interactive && e.type === 'citrate:daemon:spawn') ctx.out.stderr.write(`starting kubo (pid ${e.pid}), log: ${e.logPath}\n`)
    }
  })
  ctx.out.result({ adopted, ...toStatusView(status) },
    `${adopted ? 'kubo was already running on this repo; using it' : 'kubo started'}\n${describeStatus(status)}`)
}

export async function daemonStop (ctx: Context): Promise<void> {
  const r = await new DaemonManager({ config: ctx.config }).stop()
  ctx.out.result(r, r.wasRunning ? `kubo stopped${r.method !== 'rpc' ? ` (with ${r.method ?? 'a signal'})` : ''}` : 'kubo was not running')
}

export async function daemonLogs (ctx: Context, lines: number): Promise<void> {
  const manager = new DaemonManager({ config: ctx.config })
  const text = await manager.logs(lines)
  ctx.out.result({ path: manager.logPath, lines: text === '' ? [] : text.split('\n') }, text === '' ? `(no log yet at ${manager.logPath})` : text)
}
