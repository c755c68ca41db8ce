/** The public shapes of a pull: options, progress events (the seed's DownloadProgress) and result. */
import type { DownloadProgress } from '@citrate-ipfs/contract'
import type { LoadedConfig } from '../config/load.ts'
import type { SourceFailure } from '../errors.ts'
import type { ModelEntry, ModelKind } from '../registry/schema.ts'
import type { BlockSource, SkippedSymlink, SymlinkMode } from '../fetch/index.ts'
import type { DownloadLimiter } from '../net/rate-limit.ts'
import type { CommitHook } from './commit.ts'
import type { SourceMode } from './sources.ts'

// The seed's DownloadProgress and its status enum cross the wire as they are, so they are the contract's.
export type { DownloadProgress, DownloadStatus, SourceProgress, SourceState } from '@citrate-ipfs/contract'

export type PullEvent =
  | { type: 'citrate:pull:progress', progress: DownloadProgress }
  /** A source failed a request; `dropped` when it is no longer used for this pull. */
  | { type: 'citrate:pull:source-failed', source: string, reason: string, dropped: boolean }
  /** Verified bytes found on disk from an interrupted pull. */
  | { type: 'citrate:pull:resumed', cid: string, bytes: number }
  /** Another process holds this CID's download: the pull waits for it, then resumes from (or reuses) what it did. */
  | { type: 'citrate:pull:waiting', cid: string, reason: string }
  | { type: 'citrate:pull:committed', id: string, path: string }
  | { type: 'citrate:pull:pinned', cid: string }
  | { type: 'citrate:pull:pin-skipped', cid: string, reason: string }
  /** A symlink of the folder was not written (it points outside the folder): `path` inside the content, its target, and why. */
  | { type: 'citrate:pull:symlink-skipped', path: string, target: string, reason: string }

export interface PullOptions {
  /**
   * What to fetch: a CID (v0 or v1, a UnixFS file or directory, or a raw
   * block), or a path inside one in any form users paste (`<cid>/a/b.gguf`,
   * `/ipfs/…`, `ipfs://…`, path and subdomain gateway links: ipld/content-path.ts).
   */
  cid: string
  config: LoadedConfig
  /** Registry id and folder name; default derived from `filename`, else the CID. */
  name?: string
  /** Name of the file (or folder) inside the model's folder; default the content path's last name, else `model.<ext>` (a file) or the CID (a folder). */
  filename?: string
  kind?: ModelKind
  source?: SourceMode
  signal?: AbortSignal
  onProgress?: (event: PullEvent) => void
  /** Use exactly these sources instead of the configured ones (gateway base URLs or BlockSources). */
  sources?: Array<string | BlockSource>
  /**
   * Reuse the verified bytes of another id holding this CID (or downloading
   * it in this process) instead of fetching: models/reuse.ts. Default true,
   * except with explicit `sources`: "exactly these sources" then means a real
   * retrieval from them (the fault-injection tests rely on it).
   */
  reuseLocal?: boolean
  /** Replaces the built-in public gateway list (`[]` for none). */
  publicGateways?: readonly string[]
  /** Walk tasks at once (block requests among them), all sources together; default 16 with several sources, 8 with one. */
  concurrency?: number
  /** Flush to disk before the commit; default the config's `fsync` (true). */
  fsync?: boolean
  /** Byte-range reads at once across all sources (each holds about 2 MiB of leaf buffers); default 12 with several range sources, 4 with one. */
  streams?: number
  /** A source silent for this long is stalled and its work moves on; default 20 s. */
  stallMs?: number
  /**
   * Bytes per CAR range request for files of 4 MiB and more; default
   * min(chunk_size_mb, 64 MiB). 0 fetches every block with its own raw-block request.
   */
  rangeBytes?: number
  /**
   * How a folder's symlinks are written: 'link' (a relative link, or a copy of
   * its target where the filesystem refuses links; the default) or 'copy'
   * (always a copy; the default on Windows). Links pointing outside the folder are never written.
   */
  symlinks?: SymlinkMode
  /** Called after each step of the commit into place (models/commit.ts); for fault-injection tests. */
  commitHook?: CommitHook
  /** Progress sampling interval; default 250 ms. */
  progressIntervalMs?: number
  /**
   * Download bandwidth cap in MB/s (10^6 bytes) over all this pull's sources;
   * default the config's `max_download_mbps` (0 = none). Change it while the
   * pull runs with `PullHandle.setRateLimit`.
   */
  maxDownloadMbps?: number
  /**
   * One cap shared with other pulls (the service caps the total of its
   * downloads this way); `maxDownloadMbps` is then ignored and
   * `setRateLimit` changes the shared cap.
   */
  limiter?: DownloadLimiter
  env?: NodeJS.ProcessEnv
}

export interface PullResult {
  entry: ModelEntry
  /** The model's folder (holds the content, metadata.json and config.json). */
  dir: string
  /** The content itself (a file, or a folder for directory CIDs). */
  path: string
  type: 'file' | 'directory'
  totalBytes: number
  /** Bytes received from sources during this run (verified blocks, interior nodes included). */
  fetchedBytes: number
  /** File bytes already on disk from an interrupted earlier run. */
  resumedBytes: number
  /** Sources that delivered blocks, in order. */
  sources: string[]
  /** Sources dropped during the pull, or whose last failure no delivery followed, with why. */
  failures: SourceFailure[]
  /** Every source asked, in order: what it delivered, its share of `fetchedBytes`, and why it was dropped. */
  shares: SourceShare[]
  pinned: boolean
  /** True when this CID was already in place under this id (nothing fetched). */
  alreadyPresent: boolean
  /** Set when the bytes were cloned from the verified copy held under this other id (nothing fetched). */
  reusedFrom?: string
  /** `<root cid>/a/b` when a path inside the content was pulled (`entry.cid` is then the CID of `b`). */
  contentPath?: string
  /** The folder's symlinks that were not written (pointing outside it), by path inside the content; empty for files. */
  skippedSymlinks: SkippedSymlink[]
}

/** One source's part in a finished pull. */
export interface SourceShare {
  name: string
  kind: 'daemon' | 'gateway'
  /** Verified bytes it delivered in this run. */
  bytes: number
  /** bytes / fetchedBytes, 0 to 1 (0 when nothing was fetched). */
  share: number
  /** Its throughput while it had requests in flight, MB/s. */
  speed_mbps: number
  requests: number
  failures: number
  dropped: boolean
  /** Why it was dropped. */
  reason?: string
}

/** A running pull: await `result`, or pause / resume / cancel it. */
export interface PullHandle {
  readonly cid: string
  readonly result: Promise<PullResult>
  readonly progress: DownloadProgress
  pause: () => void
  resume: () => void
  /** Stops the pull and discards its partial data. (Aborting `signal` stops it but keeps the data for a later resume.) */
  cancel: () => void
  /** Changes the bandwidth cap at once, running reads included: MB/s, 0 = none (a shared `limiter`'s cap for all its pulls). */
  setRateLimit: (mbps: number) => void
  /** The cap now, MB/s (0 = none). */
  readonly rateLimit: number
}
