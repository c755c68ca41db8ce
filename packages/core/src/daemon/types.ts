/** The seed's daemon states, as a discriminated union on `state`. */
export type DaemonStatus =
  | { state: 'NotInstalled', message: string }
  | { state: 'Stopped', kuboVersion?: string, kuboPath?: string }
  | { state: 'Starting', pid: number }
  | {
    state: 'Running'
    peerId: string
    addresses: string[]
    apiUrl: string
    gatewayUrl: string
    kuboVersion: string
    pid?: number
  }
  | { state: 'Error', code: string, message: string, logTail: string }

export type DaemonState = DaemonStatus['state']

/** Progress of `start`, as a string-literal union (best-effort, for display). */
export type DaemonProgressEvent =
  | { type: 'citrate:daemon:init', repo: string }
  | { type: 'citrate:daemon:spawn', pid: number, logPath: string }
  | { type: 'citrate:daemon:adopted', apiUrl: string }
  | { type: 'citrate:daemon:ready', apiUrl: string, elapsedMs: number }

export interface DaemonStartResult {
  status: Extract<DaemonStatus, { state: 'Running' }>
  /** True when a daemon already running on this repo was used instead of starting one. */
  adopted: boolean
}

export interface DaemonStopResult {
  /** False when nothing was running. */
  wasRunning: boolean
  /** How it ended: through the RPC shutdown, or by signal. */
  method?: 'rpc' | 'SIGTERM' | 'SIGKILL'
}

/** What we record, under CITRATE_HOME/run, about a daemon we started. */
export interface DaemonRecord {
  pid: number
  binary: string
  repo: string
  startedAt: string
  logPath: string
  logOffset: number
}

/**
 * The status as the Citrate app reads it: the seed's `IPFSStatus`
 * (`installed`, `running`, `peerId`, `addresses`), the app's existing
 * `{connected, peerId}`, and the full state for anything richer.
 */
export interface IpfsStatusView {
  state: DaemonState
  installed: boolean
  running: boolean
  connected: boolean
  peerId?: string
  addresses?: string[]
  apiUrl?: string
  gatewayUrl?: string
  kuboVersion?: string
  pid?: number
  error?: { code: string, message: string, logTail: string }
  message?: string
}

export function toStatusView (s: DaemonStatus): IpfsStatusView {
  switch (s.state) {
    case 'Running':
      return { state: s.state, installed: true, running: true, connected: true, peerId: s.peerId, addresses: s.addresses, apiUrl: s.apiUrl, gatewayUrl: s.gatewayUrl, kuboVersion: s.kuboVersion, ...(s.pid != null ? { pid: s.pid } : {}) }
    case 'Starting':
      return { state: s.state, installed: true, running: false, connected: false, pid: s.pid }
    case 'Stopped':
      return { state: s.state, installed: true, running: false, connected: false, ...(s.kuboVersion != null ? { kuboVersion: s.kuboVersion } : {}) }
    case 'NotInstalled':
      return { state: s.state, installed: false, running: false, connected: false, message: s.message }
    case 'Error':
      return { state: s.state, installed: s.code !== 'KUBO_NOT_INSTALLED', running: false, connected: false, error: { code: s.code, message: s.message, logTail: s.logTail } }
  }
}
