/**
 * Keep-alive for the byte-range client (range-client.ts): an HTTP/1.1
 * connection whose answer was whole and `Content-Length`-framed is kept and
 * reused for the next range read of the same origin, so a piece costs one
 * request RTT instead of a handshake RTT plus a request RTT (on a 200 ms
 * gateway at 5 MB/s per connection, 0.4 s of overhead per 8 MiB piece became
 * 0.2 s). One pool per pull (BlockFetcher); closed when the pull ends.
 *
 * A connection is reused only when nothing about it is unusual: the answer
 * said nothing of `Connection: close`, came over HTTP/1.1, had exactly the
 * bytes it declared, and our read ended at its end (not truncated, stopped
 * or failed). An idle connection that receives anything, ends, or errors is
 * destroyed; one idle for IDLE_MS is closed. Idle sockets are unref'd so
 * they never keep a process alive. Bound: at most MAX_IDLE_PER_ORIGIN idle
 * connections per origin (each a socket and its kernel buffers; no user-space
 * buffers are held while idle beyond a 1 KiB spare).
 */
import type { Socket } from 'node:net'

/** An idle connection is closed after this long (under common servers' keep-alive timeouts, e.g. nginx's 75 s, Go's none). */
const IDLE_MS = 10_000
/** Idle connections kept per origin: a source's window is at most 16 requests (source-pool.ts TIER_CAPS). */
const MAX_IDLE_PER_ORIGIN = 16

/** What a connection reports to the request using it. */
export interface ConnectionOwner {
  /** Where the next socket read lands. */
  view: () => Uint8Array
  /** `n` bytes landed in `buf`; false pauses reading. */
  onRead: (n: number, buf: Uint8Array) => boolean
  onError: (err: NodeJS.ErrnoException) => void
  onEnd: () => void
  onClose: () => void
}

export class Connection {
  readonly socket: Socket
  readonly origin: string
  owner: ConnectionOwner | undefined
  /** Answers completed on this connection (0 until the first): > 0 means the next is a reuse. */
  uses = 0
  private readonly spare = Buffer.allocUnsafe(1024)
  private pool: ConnectionPool | undefined
  private idleTimer: NodeJS.Timeout | undefined

  /** `dial` opens the socket with the `onread` options it is given (which dispatch to the owner). */
  constructor (origin: string, dial: (onread: { buffer: () => Uint8Array, callback: (n: number, buf: Uint8Array) => boolean }) => Socket) {
    this.origin = origin
    this.socket = dial({
      buffer: () => this.owner?.view() ?? this.spare,
      callback: (n, buf) => {
        const owner = this.owner
        if (owner !== undefined) {
          if (buf.buffer !== this.spare.buffer) return owner.onRead(n, buf)
          // Node takes the view for the next read right after each callback (and at connect),
          // so the first read after a claim lands in the spare: moved to where the owner wants it.
          const view = owner.view()
          if (view.byteLength < n) { owner.onError(new Error('a read on a kept connection was larger than the view it had to move to')); return false }
          view.set(buf.subarray(0, n))
          return owner.onRead(n, view.subarray(0, n))
        }
        // Bytes nobody asked for on an idle connection: not reusable.
        this.destroy()
        return false
      }
    })
    this.socket.on('error', (err: NodeJS.ErrnoException) => { if (this.owner !== undefined) this.owner.onError(err); else this.destroy() })
    this.socket.on('end', () => { if (this.owner !== undefined) this.owner.onEnd(); else this.destroy() })
    this.socket.on('close', () => { if (this.owner !== undefined) this.owner.onClose(); else this.destroy() })
  }

  /** Taken from the pool by a request. */
  claim (owner: ConnectionOwner): void {
    clearTimeout(this.idleTimer)
    this.owner = owner
    this.socket.ref()
  }

  /** The owner is done with it, whole: back to the pool (or closed when there is none or it is full). */
  release (): void {
    this.owner = undefined
    this.uses++
    if (this.pool === undefined || !this.pool.put(this)) { this.destroy(); return }
    this.socket.unref()
    this.idleTimer = setTimeout(() => { this.destroy() }, IDLE_MS)
    this.idleTimer.unref()
    // Read on while idle so a close by the server is seen (and anything unexpected ends it).
    this.socket.resume()
  }

  /** Where it returns on release(). */
  belongsTo (pool: ConnectionPool | undefined): void { this.pool = pool }

  destroy (): void {
    this.owner = undefined
    clearTimeout(this.idleTimer)
    this.pool?.remove(this)
    this.socket.destroy()
  }
}

/** Idle keep-alive connections by origin (`http://host:port`), for one pull. */
export class ConnectionPool {
  private readonly idle = new Map<string, Connection[]>()
  private closed = false

  /** An idle connection to `origin`, claimed; undefined when none. */
  take (origin: string): Connection | undefined {
    const list = this.idle.get(origin)
    while (list !== undefined && list.length > 0) {
      const c = list.pop() as Connection
      if (!c.socket.destroyed && c.socket.readyState === 'open') return c
      c.destroy()
    }
    return undefined
  }

  /** False when closed or full: the caller closes it. */
  put (c: Connection): boolean {
    if (this.closed) return false
    const list = this.idle.get(c.origin) ?? []
    if (list.length >= MAX_IDLE_PER_ORIGIN) return false
    list.push(c)
    this.idle.set(c.origin, list)
    return true
  }

  remove (c: Connection): void {
    const list = this.idle.get(c.origin)
    const i = list?.indexOf(c) ?? -1
    if (list !== undefined && i >= 0) list.splice(i, 1)
  }

  /** Closes every idle connection; later releases close theirs. */
  close (): void {
    this.closed = true
    for (const list of this.idle.values()) for (const c of [...list]) c.destroy()
    this.idle.clear()
  }
}
