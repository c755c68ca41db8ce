/**
 * A retrieval: one root CID turned into verified bytes in a work folder,
 * resumable. This is the face of fetch/: it knows CIDs, blocks and sources
 * (injected by the caller), never models, the registry, pins or the daemon.
 *
 *   const r = await Retrieval.open(root, join(paths.pulls, root.toString()), { signal })
 *   try {
 *     const done = await r.run({ sources, signal, maxBytes, rangeBytes })
 *     // r.contentPath holds the verified file or folder; r.interiorBlocks() the DAG index
 *     await r.finish()      // drop the work folder
 *   } finally {
 *     await r.close()       // keeps the work folder for a later resume
 *   }
 *
 * The work folder is locked across processes while open: a second process
 * retrieving the same root waits (a lock whose holder died is taken over at
 * once, or after 5 s when its pid cannot be checked) and then resumes from
 * what the first one left.
 */
import { mkdir, rm } from 'node:fs/promises'
import type { CID } from 'multiformats/cid'
import type { SourceFailure } from '../errors.ts'
import { logger } from '../log.ts'
import type { DownloadLimiter } from '../net/rate-limit.ts'
import { lockSafely } from '../util/lock.ts'
import { BlockFetcher, type SourceReport, type TailStats } from './fetcher.ts'
import { PullJournal } from './journal.ts'
import { localBlocks } from './local-blocks.ts'
import type { BlockSource, VerifiedBlock } from './source.ts'
import { walkDag, type SkippedSymlink, type SymlinkMode } from './walk/index.ts'

const log = logger('fetch')
const STATS_LOG_MS = 5000

export interface RetrieveOptions {
  /** Where blocks come from, in order of preference. */
  sources: BlockSource[]
  signal: AbortSignal
  /** Largest total of file sizes accepted. */
  maxBytes: number
  /** Bytes per range request, byte range or CAR (0: one raw-block request per block). */
  rangeBytes: number
  /** Walk tasks at once (block requests among them), all sources together; default 16 with several sources, 8 with one. */
  concurrency?: number
  /** Byte-range reads at once across all sources (each holds about 1 MiB of leaf buffers); default 16 with several range sources, 4 with one. */
  streams?: number
  /** fdatasync the content before returning; default true. */
  fsync?: boolean
  /** Awaited before each request: the pause gate. */
  gate?: () => Promise<void>
  /** True while paused: open streams stop and resume later. */
  isPaused?: () => boolean
  /** File bytes placed on disk (`resumed`: found already verified on disk). */
  onBytes?: (n: number, resumed: boolean) => void
  /** Total declared file bytes discovered so far (exact once the walk ends). */
  onDeclared?: (total: number) => void
  /** A source failed a request; `dropped` when it is no longer used for this retrieval. */
  onSourceFailed?: (failure: SourceFailure & { dropped: boolean }) => void
  /** The bandwidth cap every read counts against, across all sources (net/rate-limit.ts); none by default. */
  limiter?: DownloadLimiter
  /** How a folder's symlinks are written: 'link' (copies where links fail; the default) or 'copy' (the default on Windows). */
  symlinks?: SymlinkMode
}

export interface RetrieveResult {
  type: 'file' | 'directory'
  totalBytes: number
  files: number
  /** Bytes received from sources during this run (verified blocks, interior nodes included). */
  fetchedBytes: number
  /** Sources that delivered blocks, in order. */
  usedSources: BlockSource[]
  /** Sources dropped during the run, or whose last failure no delivery followed, with why. */
  failures: SourceFailure[]
  /** Symlinks written as links (their targets inside the folder). */
  symlinks: number
  /** Symlinks not written (pointing outside the folder, or not copyable where links cannot be made), by path. */
  skippedSymlinks: SkippedSymlink[]
}

export class Retrieval {
  readonly root: CID
  readonly dir: string
  private readonly journal: PullJournal
  private unlock: (() => Promise<void>) | undefined
  private fetcher: BlockFetcher | undefined

  private constructor (root: CID, dir: string, unlock: () => Promise<void>) {
    this.root = root
    this.dir = dir
    this.journal = new PullJournal(dir)
    this.unlock = unlock
  }

  /**
   * Opens (creating or resuming) the work folder `dir` for `root`, waiting
   * (abortably) while another process holds it. `onLockLost` is called if
   * the lock is taken from us (our process stalled past the stale time).
   */
  static async open (root: CID, dir: string, opts: { signal: AbortSignal, onLockLost?: (err: Error) => void, onWait?: () => void }): Promise<Retrieval> {
    await mkdir(dir, { recursive: true })
    const unlock = await lockDir(dir, opts.signal, opts.onLockLost ?? (() => {}), opts.onWait)
    const r = new Retrieval(root, dir, unlock)
    try {
      await r.journal.sweepTrash()
      await r.journal.open()
    } catch (err) {
      await r.close()
      throw err
    }
    if (r.journal.resumedBytes > 0) log('%s: resuming with %d verified bytes on disk', root, r.journal.resumedBytes)
    return r
  }

  /** Verified file bytes found on disk from an interrupted earlier run. */
  get resumedBytes (): number { return this.journal.resumedBytes }

  /** The file, or the folder for a directory CID, being filled in place. */
  get contentPath (): string { return this.journal.contentPath }

  /** The source that answered most recently (for progress). */
  get currentSource (): string | null { return this.fetcher?.currentSource ?? null }

  /** Each source's share so far: bytes, requests, failures, speed while busy, and why it was dropped. */
  get sourceStats (): SourceReport[] { return this.fetcher?.sourceStats ?? [] }

  /** Reads split and hedged at the tail of the last run (work stealing, hedging). */
  get tailStats (): TailStats { return this.fetcher?.tail ?? { steals: 0, hedges: 0, hedgeWins: 0 } }

  /** Fetches what is not yet on disk, verifying every block; resolves when the whole DAG is in place (and synced). */
  async run (opts: RetrieveOptions): Promise<RetrieveResult> {
    const fetcher = new BlockFetcher(opts.sources, { onSourceFailed: opts.onSourceFailed, limiter: opts.limiter })
    this.fetcher = fetcher
    log('%s: sources %o', this.root, opts.sources.map(s => s.name))
    // While debugging, every few seconds each source's share and speed: a stalled pull explains itself.
    const report = log.enabled ? setInterval(() => { fetcher.logStats() }, STATS_LOG_MS) : undefined
    report?.unref()
    let walk: Awaited<ReturnType<typeof walkDag>>
    try {
      walk = await walkDag({
        root: this.root,
        journal: this.journal,
        fetcher,
        // Blocks held at once (≤ 2 MiB each): more only when several sources share the work.
        concurrency: opts.concurrency ?? (opts.sources.length > 1 ? 16 : 8),
        streams: opts.streams,
        fsync: opts.fsync,
        signal: opts.signal,
        maxBytes: opts.maxBytes,
        gate: opts.gate ?? (async () => {}),
        isPaused: opts.isPaused ?? (() => false),
        rangeBytes: opts.rangeBytes,
        onBytes: opts.onBytes ?? (() => {}),
        onDeclared: opts.onDeclared ?? (() => {}),
        symlinks: opts.symlinks
      })
    } finally {
      clearInterval(report)
      fetcher.close()
      fetcher.logStats()
    }
    return { ...walk, fetchedBytes: fetcher.fetchedBytes, usedSources: fetcher.usedSources, failures: fetcher.failures }
  }

  /** The verified interior blocks (file-tree nodes, folders, HAMT shards): what a DAG index keeps. */
  interiorBlocks (): AsyncIterable<VerifiedBlock> {
    return this.journal.interiorBlocks()
  }

  /** Every block of the DAG, rebuilt from disk and re-verified (to hand the content to kubo). */
  blocks (contentPath = this.contentPath): AsyncIterable<VerifiedBlock> {
    return localBlocks(this.root, contentPath, this.journal, 0, undefined)
  }

  /** Closes the work folder and keeps its data, so a later retrieval resumes. Idempotent. */
  async close (): Promise<void> {
    await this.journal.close().catch(() => {})
    const unlock = this.unlock
    this.unlock = undefined
    await unlock?.().catch(() => {})
  }

  /** Drops the work folder and its data (cancelled, or finished and moved out). */
  async discard (): Promise<void> {
    await this.journal.close().catch(() => {})
    await rm(this.dir, { recursive: true, force: true }).catch(() => {})
    await this.close()
  }

  /** Finished and the content moved out: the rest of the work folder is removed. */
  async finish (): Promise<void> {
    await this.journal.destroy()
    await this.close()
  }
}

/** The per-root lock shared with other processes; waiting is abortable. */
async function lockDir (dir: string, signal: AbortSignal, onCompromised: (err: Error) => void, onWait?: () => void): Promise<() => Promise<void>> {
  // A dead process's lock is taken over at once when its pid is gone, else after 5 s unrefreshed, by one waiter only (util/lock.ts).
  return await lockSafely(dir, { lockPath: `${dir}.lock`, staleMs: 5000, retryMs: 250, signal, onCompromised, onWait })
}
