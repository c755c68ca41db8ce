import { DaemonManager, toStatusView, type DaemonStatus } from '@citrate-ipfs/core'
import type { Context } from '../context.ts'

export async function statusCommand (ctx: Context): Promise<void> {
  const status = await new DaemonManager({ config: ctx.config }).status()
  ctx.out.result(toStatusView(status), describeStatus(status))
}

export function describeStatus (s: DaemonStatus): string {
  switch (s.state) {
    case 'Running':
      return [
        `kubo: running (v${s.kuboVersion}${s.pid != null ? `, pid ${s.pid}` : ''})`,
        `peer id: ${s.peerId}`,
        `api: ${s.apiUrl} (${s.rpcProtected ? 'locked with this install\'s secret' : 'UNPROTECTED: open to every program on this machine'})`,
        `gateway: ${s.gatewayUrl}`,
        ...(s.addresses.length > 0 ? [`addresses: ${s.addresses.join(', ')}`] : ['addresses: none (offline)']),
        // Adopted as it is: it was started without our secret; a restart by us locks it.
        ...(s.rpcProtected ? [] : ['hint: restart it to lock its RPC: citrate-ipfs daemon stop && citrate-ipfs daemon start'])
      ].join('\n')
    case 'Starting':
      return `kubo: starting (pid ${s.pid})`
    case 'Stopped':
      return `kubo: stopped${s.kuboVersion != null ? ` (v${s.kuboVersion} installed at ${s.kuboPath ?? '?'})` : ''}\nstart it with: citrate-ipfs daemon start`
    case 'NotInstalled':
      return `kubo: not installed\n${s.message}`
    case 'Error':
      return `kubo: error: ${s.message}${s.logTail !== '' ? `\nlast log lines:\n${indent(s.logTail)}` : ''}`
  }
}

function indent (text: string): string {
  return text.split('\n').map(l => `  ${l}`).join('\n')
}
