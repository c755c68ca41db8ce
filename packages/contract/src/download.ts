/** A download: the seed's DownloadProgress and the service's view of a running pull. */
import { Type, type Static } from 'typebox'
import { ModelEntry } from './model.ts'

export const DOWNLOAD_PHASES = ['Queued', 'Connecting', 'Downloading', 'Verifying', 'Complete', 'Paused'] as const

/** The seed's status enum, serialised as serde does: unit variants as strings, `Failed(reason)` as `{ Failed: reason }`. */
export const DownloadStatus = Type.Union([
  Type.Enum(DOWNLOAD_PHASES),
  Type.Object({ Failed: Type.String() })
])
export type DownloadStatus = Static<typeof DownloadStatus>

/** The seed's DownloadProgress, plus the source currently answering. Byte counts are best-effort; status changes are guaranteed. */
export const DownloadProgress = Type.Object({
  cid: Type.String(),
  /** Declared size of all file bytes; grows while a directory is being discovered, exact at Complete. 0 until the root is read. */
  total_bytes: Type.Number(),
  /** Verified file bytes on disk (including those found on disk when resuming). */
  downloaded_bytes: Type.Number(),
  progress_percent: Type.Number(),
  /** Recent throughput in megabytes (10^6 bytes) per second. */
  speed_mbps: Type.Number(),
  eta_seconds: Type.Union([Type.Number(), Type.Null()]),
  status: DownloadStatus,
  source: Type.Union([Type.String(), Type.Null()])
})
export type DownloadProgress = Static<typeof DownloadProgress>

/** A download the service runs, by registry id. */
export const DownloadView = Type.Object({
  id: Type.String(),
  cid: Type.String(),
  progress: DownloadProgress,
  /** The registry entry once Complete. */
  model: Type.Optional(ModelEntry),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() }))
})
export type DownloadView = Static<typeof DownloadView>

/** Where a download may fetch from: the local daemon, gateways, or whichever answers (the default). */
export const DownloadSourceMode = Type.Enum(['auto', 'daemon', 'gateway'])
export type DownloadSourceMode = Static<typeof DownloadSourceMode>
