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

/** What a source is doing in a download: delivering, resting after a failure (or a Retry-After), or dropped. */
export const SourceState = Type.Enum(['active', 'cooling', 'dropped'])
export type SourceState = Static<typeof SourceState>

/** One source's part in a download, in the sources' order. Best-effort, like the byte counts. */
export const SourceProgress = Type.Object({
  /** The source's name (`daemon`, or a gateway URL). */
  name: Type.String(),
  /** Verified bytes it delivered in this run (blocks and leaves, interior nodes included). */
  bytes: Type.Number(),
  /** Its recent throughput in MB/s (10^6 bytes). */
  speed_mbps: Type.Number(),
  state: SourceState,
  /** Why it is cooling down or was dropped. */
  reason: Type.Optional(Type.String())
})
export type SourceProgress = Static<typeof SourceProgress>

/** The seed's DownloadProgress, plus the source currently answering and each source's part. Byte counts are best-effort; status changes are guaranteed. */
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
  source: Type.Union([Type.String(), Type.Null()]),
  /** Each source's bytes, speed and state (absent until the download has sources). */
  sources: Type.Optional(Type.Array(SourceProgress))
})
export type DownloadProgress = Static<typeof DownloadProgress>

/** A download the service runs, by registry id. */
export const DownloadView = Type.Object({
  id: Type.String(),
  cid: Type.String(),
  progress: DownloadProgress,
  /** The registry entry once Complete. */
  model: Type.Optional(ModelEntry),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
  /** Once Complete: the folder's symlinks that were not written (they point outside it), by path inside the content. */
  skippedSymlinks: Type.Optional(Type.Array(Type.Object({ path: Type.String(), target: Type.String(), reason: Type.String() }))),
  /** True when the download ended because someone cancelled it (ipfs_cancel_download), not because it failed. */
  cancelled: Type.Optional(Type.Boolean())
})
export type DownloadView = Static<typeof DownloadView>

/** Where a download may fetch from: the local daemon, gateways, or whichever answers (the default). */
export const DownloadSourceMode = Type.Enum(['auto', 'daemon', 'gateway'])
export type DownloadSourceMode = Static<typeof DownloadSourceMode>
