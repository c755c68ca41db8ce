/**
 * A gateway on 127.0.0.1 that forwards to another (kubo's) and sends its
 * answers at a fixed rate, so progress, pause and resume can be watched; and,
 * scripted by `fault`, fails chosen requests the way flaky gateways do (an
 * HTTP status such as 503, or a connection reset before any answer).
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http'

/**
 * What to do with request number `n` (from 1): forward it, answer with this
 * status (optionally with headers, e.g. `Retry-After`), or reset the connection.
 */
export type Fault = 'pass' | 'reset' | number | { status: number, headers?: Record<string, string> }

export interface ThrottleProxyOptions {
  fault?: (n: number, req: IncomingMessage) => Fault
}

export interface ThrottleProxy {
  url: string
  requests: number
  /** Requests the fault script failed. */
  faults: number
  /** Every request as it arrived: number, time (ms since the epoch), path, and what the script did. */
  log: Array<{ n: number, at: number, url: string, fault: Fault }>
  close: () => Promise<void>
}

/** `bytesPerSecond` Infinity: forward at full speed. */
export async function startThrottleProxy (upstream: string, bytesPerSecond: number, opts: ThrottleProxyOptions = {}): Promise<ThrottleProxy> {
  const target = new URL(upstream)
  const state = { requests: 0, faults: 0 }
  const log: ThrottleProxy['log'] = []
  const server: Server = createServer((req, res) => {
    state.requests++
    const fault = opts.fault?.(state.requests, req) ?? 'pass'
    log.push({ n: state.requests, at: Date.now(), url: req.url ?? '', fault })
    if (fault !== 'pass') {
      state.faults++
      if (fault === 'reset') req.socket.destroy()
      else if (typeof fault === 'number') res.writeHead(fault, { 'content-type': 'text/plain' }).end('scripted failure')
      else res.writeHead(fault.status, { 'content-type': 'text/plain', ...fault.headers }).end('scripted failure')
      return
    }
    const up = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, host: target.host } }, upRes => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers)
      if (!Number.isFinite(bytesPerSecond)) { upRes.pipe(res); return }
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
    get faults () { return state.faults },
    log,
    close: async () => {
      server.closeAllConnections()
      await new Promise(resolve => server.close(resolve))
    }
  }
}
