/** The public shapes of a pull: options, progress events (the seed's DownloadProgress) and result. */
import type { DownloadProgress } from '@citrate-ipfs/contract'
import type { LoadedConfig } from '../config/load.ts'
import type { SourceFailure } from '../errors.ts'
import type { ModelEntry, ModelKind } from '../registry/schema.ts'
import type { BlockSource } from '../fetch/index.ts'
import type { SourceMode } from './sources.ts'

// The seed's DownloadProgress and its status enum cross the wire as they are, so they are the contract's.
export type { DownloadProgress, DownloadStatus } from '@citrate-ipfs/contract'

export type PullEvent =
  | { type: 'citrate:pull:progress', progress: DownloadProgress }
  /** A source failed a request; `dropped` when it is no longer used for this pull. */
  | { type: 'citrate:pull:source-failed', source: string, reason: string, dropped: boolean }
  /** Verified bytes found on disk from an interrupted pull. */
  | { type: 'citrate:pull:resumed', cid: string, bytes: number }
  | { type: 'citrate:pull:committed', id: string, path: string }
  | { type: 'citrate:pull:pinned', cid: string }
  | { type: 'citrate:pull:pin-skipped', cid: string, reason: string }

export interface PullOptions {
  /** The CID to fetch (v0 or v1, a UnixFS file or directory, or a raw block). */
  cid: string
  config: LoadedConfig
  /** Registry id and folder name; default derived from `filename`, else the CID. */
  name?: string
  /** Name of the file (or folder) inside the model's folder; default the CID. */
  filename?: string
  kind?: ModelKind
  source?: SourceMode
  signal?: AbortSignal
  onProgress?: (event: PullEvent) => void
  /** Use exactly these sources instead of the configured ones (gateway base URLs or BlockSources). */
  sources?: Array<string | BlockSource>
  /** Replaces the built-in public gateway list (`[]` for none). */
  publicGateways?: readonly string[]
  /** Walk tasks at once (block requests among them), all sources together; default 16. */
  concurrency?: number
  /** Flush to disk before the commit; default the config's `fsync` (true). */
  fsync?: boolean
  /** Byte-range reads at once across all sources (each holds about 2 MiB of leaf buffers); default 12. */
  streams?: number
  /** A source silent for this long is stalled and its work moves on; default 20 s. */
  stallMs?: number
  /**
   * Bytes per CAR range request for files of 4 MiB and more; default
   * min(chunk_size_mb, 64 MiB). 0 fetches every block with its own raw-block request.
   */
  rangeBytes?: number
  /** Progress sampling interval; default 250 ms. */
  progressIntervalMs?: number
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
  pinned: boolean
  /** True when this CID was already in place under this id (nothing fetched). */
  alreadyPresent: boolean
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
}
