import { stat } from 'node:fs/promises'
import { DaemonManager, followFile, pinPending, tailFile, toStatusView, type PinPendingResult } from '@citrate-ipfs/core'
import type { Context } from '../context.ts'
import { registryFor } from './models.ts'
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
  // Models auto_pin wanted pinned while the daemon was down are pinned now, from their verified bytes on disk.
  const pending = await pinPending({ rpc: await manager.rpc(), registry: registryFor(ctx), paths: ctx.config.paths, timeoutMs: ctx.config.ipfs.pin_timeout_seconds * 1000 })
  ctx.out.result({ adopted, ...toStatusView(status), pendingPins: pending },
    [`${adopted ? 'kubo was already running on this repo; using it' : 'kubo started'}`, describeStatus(status), ...describePendingPins(pending)].join('\n'))
}

/** What pinning the registry's pending pins did, for people. */
export function describePendingPins (r: PinPendingResult): string[] {
  return [
    ...(r.pinned.length > 0 ? [`pinned ${r.pinned.length} registered model(s) auto_pin wanted pinned while the daemon was not running: ${r.pinned.join(', ')}`] : []),
    ...r.failed.map(f => `could not pin ${f.id}: ${f.reason}`)
  ]
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

/**
 * `daemon logs -f`: the last lines, then every line kubo writes, until Ctrl-C
 * (exit 0: following was what was asked). A log rotated by the next `daemon
 * start`, or truncated, is followed on. With --json, one `{line}` per line.
 */
export async function daemonLogsFollow (ctx: Context, lines: number): Promise<void> {
  const path = new DaemonManager({ config: ctx.config }).logPath
  const size = await stat(path).then(s => s.size, () => undefined)
  const tail = size === undefined ? '' : await tailFile(path, lines, 0, size)
  if (ctx.out.json) {
    for (const line of tail === '' ? [] : tail.split('\n')) ctx.out.event({ path, line })
  } else if (tail !== '') {
    ctx.out.stdout.write(tail + '\n')
  }
  if (size === undefined && !ctx.out.json) ctx.out.stderr.write(`(no log yet at ${path}; waiting for kubo to write one)\n`)
  const stop = new AbortController()
  const onSignal = (): void => { stop.abort() }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  let partial = ''
  try {
    for await (const text of followFile(path, { signal: stop.signal, from: size ?? 0 })) {
      if (!ctx.out.json) { ctx.out.stdout.write(text); continue }
      const parts = (partial + text).split('\n')
      partial = parts.pop() ?? ''
      for (const line of parts) ctx.out.event({ path, line: line.replace(/\r$/, '') })
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  if (ctx.out.json && partial !== '') ctx.out.event({ path, line: partial })
}
