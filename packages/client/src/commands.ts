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

/** The seed's DownloadProgress (serde form: `Failed(reason)` is `{ Failed: reason }`), plus the source answering. */
export type DownloadStatus = 'Queued' | 'Connecting' | 'Downloading' | 'Verifying' | 'Complete' | 'Paused' | { Failed: string }
export interface DownloadProgress {
  cid: string
  total_bytes: number
  downloaded_bytes: number
  progress_percent: number
  speed_mbps: number
  eta_seconds: number | null
  status: DownloadStatus
  source: string | null
}

/** A download the service runs, by registry id. */
export interface DownloadView {
  id: string
  cid: string
  progress: DownloadProgress
  /** The registry entry once Complete. */
  model?: ModelEntry
  error?: { code: string, message: string }
}

export type ModelKind = 'model' | 'dataset' | 'checkpoint'

/** A registry entry (`models/registry.json`, the seed's schema). */
export interface ModelEntry {
  id: string
  name: string
  cid: string
  size_bytes: number
  quantization: string | null
  downloaded_at: string
  path: string
  source: 'ipfs' | 'gateway' | 'local'
  source_url: string | null
  verified: boolean
  kind: ModelKind
}

export interface VerifyOutcome {
  id: string
  ok: boolean
  bytes?: number
  method?: string
  error?: { code: string, message: string, offset?: number, path?: string }
}

export interface PinView { cid: string, type: string, name?: string, models: string[] }
export interface PinResult { cid: string, alreadyPinned: boolean, blocks: number, bytes?: number }

export interface CommandMap {
  ipfs_check_status: { args: Record<string, never>, result: IpfsStatus }
  ipfs_install: { args: { version?: string }, result: InstallResult }
  ipfs_start_daemon: { args: Record<string, never>, result: StartDaemonResult }
  ipfs_stop_daemon: { args: Record<string, never>, result: StopDaemonResult }
  ipfs_configure_gateway: { args: { url: string }, result: GatewayConfig }
  ipfs_get_config: { args: Record<string, never>, result: ConfigView }
  ipfs_download_model: { args: { cid: string, name?: string, filename?: string, kind?: ModelKind, source?: 'auto' | 'daemon' | 'gateway' }, result: DownloadView }
  ipfs_list_downloads: { args: Record<string, never>, result: { downloads: DownloadView[] } }
  ipfs_pause_download: { args: { id: string }, result: DownloadView }
  ipfs_resume_download: { args: { id: string }, result: DownloadView }
  ipfs_cancel_download: { args: { id: string }, result: DownloadView }
  ipfs_list_models: { args: Record<string, never>, result: { models: ModelEntry[] } }
  ipfs_verify_model: { args: { id: string }, result: VerifyOutcome }
  ipfs_remove_model: { args: { id: string, keepPin?: boolean }, result: { removed: ModelEntry, unpinned: boolean, pinNote?: string } }
  ipfs_pin: { args: { cid: string, name?: string }, result: PinResult }
  ipfs_unpin: { args: { cid: string, force?: boolean }, result: { cid: string, models: string[] } }
  ipfs_get_pins: { args: Record<string, never>, result: { pins: PinView[] } }
}

export type CommandName = keyof CommandMap
export type CommandArgs<C extends CommandName> = CommandMap[C]['args']
export type CommandResult<C extends CommandName> = CommandMap[C]['result']

/** Progress pushed to clients, as a tagged union (`event` + `data`), like Tauri plugin events. */
export type ServiceEvent =
  | { event: 'install-progress', data: InstallProgress }
  | { event: 'daemon-progress', data: { type: string, [key: string]: unknown } }
  | { event: 'status', data: IpfsStatus }
  | { event: 'download-progress', data: DownloadView }
  | { event: 'pin-progress', data: { cid: string, blocks: number, bytes?: number, done: boolean } }

export type InstallProgress =
  | { type: 'citrate:install:resolve', version: string, url: string }
  | { type: 'citrate:install:download', downloadedBytes: number, totalBytes: number | undefined }
  | { type: 'citrate:install:verify', algorithm: 'sha512' }
  | { type: 'citrate:install:extract' }
  | { type: 'citrate:install:done', path: string, version: string }
  | { type: 'citrate:install:failed', code: string, message: string }

/** The error shape of every failed call: branch on `code`, show `message`. */
export interface ErrorBody { error: { code: string, message: string } }
