/**
 * A gateway on 127.0.0.1 that forwards to another (kubo's) and sends its
 * answers at a fixed rate, so progress, pause and resume can be watched.
 */
import { createServer, request, type Server } from 'node:http'

export interface ThrottleProxy { url: string, requests: number, close: () => Promise<void> }

export async function startThrottleProxy (upstream: string, bytesPerSecond: number): Promise<ThrottleProxy> {
  const target = new URL(upstream)
  const state = { requests: 0 }
  const server: Server = createServer((req, res) => {
    state.requests++
    const up = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host } }, upRes => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers)
      upRes.on('data', (chunk: Buffer) => {
        upRes.pause()
        res.write(chunk)
        setTimeout(() => upRes.resume(), (chunk.length / bytesPerSecond) * 1000)
      })
      upRes.on('end', () => res.end())
    })
    up.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end() })
    res.on('close', () => up.destroy())
    req.pipe(up)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const addr = server.address()
  const port = typeof addr === 'object' && addr != null ? addr.port : 0
  return {
    url: `http://127.0.0.1:${port}`,
    get requests () { return state.requests },
    close: async () => {
      server.closeAllConnections()
      await new Promise(resolve => server.close(resolve))
    }
  }
}
