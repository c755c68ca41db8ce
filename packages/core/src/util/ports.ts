/** Loopback port probing, so a taken port is a clear error instead of a hang or a confusing kubo failure. */
import { createServer } from 'node:net'

/** True when nothing else is listening on 127.0.0.1:port (we could bind it). */
export function isPortFree (port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise(resolve => {
    const srv = createServer()
    srv.unref()
    srv.once('error', () => resolve(false))
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)))
  })
}

/** The first free port after `from` (skipping `avoid`), for error messages that suggest a fix. */
export async function suggestFreePort (from: number, avoid: number[] = []): Promise<number | undefined> {
  for (let p = from + 1; p < Math.min(from + 200, 65536); p++) {
    if (avoid.includes(p)) continue
    if (await isPortFree(p)) return p
  }
  return undefined
}

/** A port the OS says is free right now. */
export function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen({ port: 0, host: '127.0.0.1' }, () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr != null ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}
