import type { IpfsStatus } from '@citrate-ipfs/contract'

// The shapes clients see are the wire contract's; DaemonStatus stays core's own, richer view.
export type { DaemonProgressEvent, DaemonState, StopDaemonResult as DaemonStopResult, IpfsStatus as IpfsStatusView } from '@citrate-ipfs/contract'

/** The seed's daemon states, as a discriminated union on `state` (the same states as the contract's DaemonState). */
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
    /** Whether the RPC refuses calls without our secret (false: a daemon someone else configured, open to every local user). */
    rpcProtected: boolean
    pid?: number
  }
  | { state: 'Error', code: string, message: string, logTail: string }

export interface DaemonStartResult {
  status: Extract<DaemonStatus, { state: 'Running' }>
  /** True when a daemon already running on this repo was used instead of starting one. */
  adopted: boolean
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

/** The status as the Citrate app reads it (the contract's IpfsStatus). */
export function toStatusView (s: DaemonStatus): IpfsStatus {
  switch (s.state) {
    case 'Running':
      return { state: s.state, installed: true, running: true, connected: true, peerId: s.peerId, addresses: s.addresses, apiUrl: s.apiUrl, gatewayUrl: s.gatewayUrl, kuboVersion: s.kuboVersion, rpcProtected: s.rpcProtected, ...(s.pid != null ? { pid: s.pid } : {}) }
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
