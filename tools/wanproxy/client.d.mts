// Types of client.mjs.

/** One emulated link. Rates are bytes per second (0 or absent: unlimited); byte counts are of the response stream, HTTP heads included. */
export interface WanLink {
  name: string
  /** Round-trip time: each direction is delayed by half; a new connection costs one more RTT (its handshake) unless `noHandshake`. */
  rttMs?: number
  /** Cap of one connection's responses. */
  connRate?: number
  /** Cap shared by every connection of this link. */
  totalRate?: number
  /** Bytes in flight per connection and direction (default 4 MiB): one connection moves at most window/rtt. */
  window?: number
  /** Probability that a connection is reset (RST) at a uniformly random point of its first response. */
  resetProb?: number
  /** Close each connection (FIN) after this many response bytes. */
  cutAfter?: number
  /** Stop sending after this many response bytes and keep the connection open. */
  stallAfter?: number
  /** Connections are refused (ECONNREFUSED); switched on with `set`, they are accepted and reset instead. */
  refuse?: boolean
  /** Accept and read requests, never answer. */
  noFirstByte?: boolean
  noHandshake?: boolean
}

export interface WanGateway { name: string, url: string }

export interface WanStats {
  name: string
  /** Connections accepted. */
  connections: number
  active: number
  refused: number
  /** Response bytes delivered to clients. */
  bytesDown: number
  bytesUp: number
  resets: number
  cuts: number
  stalls: number
  dialErrors: number
}

export interface Wan {
  gateways: WanGateway[]
  /** The URL of the link named `name` (throws for an unknown name). */
  url: (name: string) => string
  pid: number
  stats: () => Promise<WanStats[]>
  /** Changes a link for the connections it accepts from now on (`totalRate` at once). */
  set: (name: string, changes: Partial<Omit<WanLink, 'name'>>) => Promise<void>
  /** Closes the proxy's stdin, which ends it, and waits for it to exit. */
  stop: () => Promise<void>
}

export function startWanproxy (binary: string, upstreamUrl: string, links: WanLink[]): Promise<Wan>
