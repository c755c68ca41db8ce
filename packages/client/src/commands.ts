/**
 * The wire contract between the citrate-ipfs service and its clients: every
 * command under its seed name, with its arguments and result. The service's
 * implementation is type-checked against these, so they cannot drift apart.
 */

export type DaemonState = 'NotInstalled' | 'Stopped' | 'Starting' | 'Running' | 'Error'

/** The seed's `IPFSStatus` and the Citrate app's `{connected, peerId}` in one. */
export interface IpfsStatus {
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

export interface InstallResult { path: string, version: string, sha512: string, bytes: number }

export interface StartDaemonResult extends IpfsStatus { adopted: boolean }

export interface StopDaemonResult { wasRunning: boolean, method?: 'rpc' | 'SIGTERM' | 'SIGKILL' }

export interface GatewayConfig {
  external_gateway: string
  fallback_gateway: string
  use_external_by_default: boolean
}

export interface ConfigView {
  configFile: string
  home: string
  ipfs: Record<string, unknown>
}

export interface CommandMap {
  ipfs_check_status: { args: Record<string, never>, result: IpfsStatus }
  ipfs_install: { args: { version?: string }, result: InstallResult }
  ipfs_start_daemon: { args: Record<string, never>, result: StartDaemonResult }
  ipfs_stop_daemon: { args: Record<string, never>, result: StopDaemonResult }
  ipfs_configure_gateway: { args: { url: string }, result: GatewayConfig }
  ipfs_get_config: { args: Record<string, never>, result: ConfigView }
}

export type CommandName = keyof CommandMap
export type CommandArgs<C extends CommandName> = CommandMap[C]['args']
export type CommandResult<C extends CommandName> = CommandMap[C]['result']

/** Progress pushed to clients, as a tagged union (`event` + `data`), like Tauri plugin events. */
export type ServiceEvent =
  | { event: 'install-progress', data: InstallProgress }
  | { event: 'daemon-progress', data: { type: string, [key: string]: unknown } }
  | { event: 'status', data: IpfsStatus }

export type InstallProgress =
  | { type: 'citrate:install:resolve', version: string, url: string }
  | { type: 'citrate:install:download', downloadedBytes: number, totalBytes: number | undefined }
  | { type: 'citrate:install:verify', algorithm: 'sha512' }
  | { type: 'citrate:install:extract' }
  | { type: 'citrate:install:done', path: string, version: string }
  | { type: 'citrate:install:failed', code: string, message: string }

/** The error shape of every failed call: branch on `code`, show `message`. */
export interface ErrorBody { error: { code: string, message: string } }
