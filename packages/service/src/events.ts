/** Fans service events out to every connected Server-Sent Events client. */
import type { ServerResponse } from 'node:http'
import type { ServiceEvent } from '@citrate-ipfs/contract'

export class EventHub {
  private readonly clients = new Set<ServerResponse>()

  attach (res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive'
    })
    res.write(': connected\n\n')
    this.clients.add(res)
    res.on('close', () => this.clients.delete(res))
  }

  emit (event: ServiceEvent): void {
    const frame = `event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`
    for (const res of this.clients) res.write(frame)
  }

  /** Keeps idle connections (and proxies) from timing out. */
  heartbeat (): void {
    for (const res of this.clients) res.write(': ping\n\n')
  }

  closeAll (): void {
    for (const res of this.clients) res.end()
    this.clients.clear()
  }

  get size (): number { return this.clients.size }
}
