/**
 * `pull`: a verified download of any UnixFS CID into the models (or training)
 * folder, with resume, pause/cancel, shared identical downloads and the
 * seed's commit order: write aside under $CITRATE_HOME/tmp, verify every block
 * on arrival, move the finished folder into place, write the registry entry last.
 */
import { lstat, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import PQueue from 'p-queue'
import type { CID } from 'multiformats/cid'
import { AbortedError, InvalidArgumentError, TargetExistsError, toCitrateError } from '../errors.ts'
import { GatewaySource, resolvePathFromSources, Retrieval } from '../fetch/index.ts'
import { formatContentPath, parseContentPath, type ContentPath } from '../ipld/content-path.ts'
import { checkEntryName } from '../ipld/unixfs.ts'
import { assertSupportedCid } from '../ipld/verify-block.ts'
import { sameCid } from '../ipld/cid.ts'
import { logger } from '../log.ts'
import { DownloadLimiter } from '../net/rate-limit.ts'
import { registryOf, type ModelRegistry } from '../registry/registry.ts'
import { fromStoredPath, toStoredPath } from '../registry/home-paths.ts'
import { modelIdFromName, sanitizeModelId } from '../registry/model-id.ts'
import { bookkeepingPath, METADATA_FILE } from '../registry/layout.ts'
import type { ModelEntry, ModelKind } from '../registry/schema.ts'
import { handToKubo } from './hand-to-kubo.ts'
import { DAEMON_NOT_RUNNING_PIN_REASON } from './pin-pending.ts'
import { COMMIT_MARKER, commitPull, pendingCommitId, recoverCommit } from './commit.ts'
import { entryDir, guessQuantization, kindRoot } from './model-files.ts'
import { ensureSpace, freeBytes } from './space.ts'
import { freeModelId, nameFromContent, shortCidId } from './naming.ts'
import type { CitratePaths } from '../config/paths.ts'
import { claimCidDownload, reuseLocalCopy } from './reuse.ts'
import { resolveSources, type ResolvedSources } from './sources.ts'
import { SourceSampler, sourceShares } from './source-progress.ts'
import type { DownloadProgress, DownloadStatus, PullEvent, PullHandle, PullOptions, PullResult } from './types.ts'
import { pathExists } from '../util/fs.ts'

const log = logger('pull')

/** At most this many pulls download at once in this process; more wait as Queued. */
export const MAX_CONCURRENT_PULLS = 3

/** Downloads of this process, MAX_CONCURRENT_PULLS at a time; a pull waiting here is Queued. */
const downloadSlots = new PQueue({ concurrency: MAX_CONCURRENT_PULLS })

interface SharedPull {
  listeners: Set<(e: PullEvent) => void>
  result: Promise<PullResult>
  control: PullControl
  attached: number
}
const shared = new Map<string, SharedPull>()

class PullControl {
  readonly abort = new AbortController()
  /** The bandwidth cap of this pull's reads (its own, or one shared with other pulls). */
  readonly limiter: DownloadLimiter
  discard = false
  paused = false
  /** Settles when the pull is resumed (or aborted); replaced at each pause. */
  private resumed: Promise<void> = Promise.resolve()
  private wake: () => void = () => {}
  progress: DownloadProgress

  constructor (cid: string, limiter: DownloadLimiter) {
    this.limiter = limiter
    this.progress = { cid, total_bytes: 0, downloaded_bytes: 0, progress_percent: 0, speed_mbps: 0, eta_seconds: null, status: 'Queued', source: null }
    this.abort.signal.addEventListener('abort', () => { this.wake() }, { once: true })
  }

  /** The pause gate: awaited before every request. */
  gate = async (): Promise<void> => {
    while (this.paused && !this.abort.signal.aborted) await this.resumed
  }

  setPaused (paused: boolean): void {
    if (paused && !this.paused) this.resumed = new Promise(resolve => { this.wake = resolve })
    if (!paused && this.paused) this.wake()
    this.paused = paused
    // The status changes at once (a status change is a guaranteed event field), not at the next sample.
    const st = this.progress.status
    if (paused && (st === 'Queued' || st === 'Connecting' || st === 'Downloading')) this.progress.status = 'Paused'
    if (!paused && st === 'Paused') this.progress.status = 'Downloading'
  }
}

/** Starts a pull and returns its handle. Identical pulls (same home, CID and id) share one download. */
export function startPull (opts: PullOptions): PullHandle {
  const cidText = opts.cid.trim()
  const key = `${opts.config.paths.home}\0${cidText}\0${opts.name ?? ''}\0${opts.filename ?? ''}\0${opts.kind ?? 'model'}`
  let s = shared.get(key)
  if (s == null) {
    const control = new PullControl(cidText, opts.limiter ?? new DownloadLimiter(checkRate(opts.maxDownloadMbps ?? opts.config.ipfs.max_download_mbps)))
    const listeners = new Set<(e: PullEvent) => void>()
    const emit = (e: PullEvent): void => { for (const l of listeners) { try { l(e) } catch { /* a listener's bug must not break the pull */ } } }
    const signal = opts.signal == null ? control.abort.signal : AbortSignal.any([opts.signal, control.abort.signal])
    const result = runPull(opts, control, signal, emit).finally(() => { shared.delete(key) })
    s = { listeners, result, control, attached: 0 }
    shared.set(key, s)
  }
  const entry = s
  entry.attached++
  if (opts.onProgress != null) entry.listeners.add(opts.onProgress)
  let detached = false
  return {
    cid: cidText,
    result: entry.result,
    get progress () { return { ...entry.control.progress } },
    get rateLimit () { return entry.control.limiter.mbps },
    setRateLimit: (mbps: number) => { entry.control.limiter.setRate(checkRate(mbps)) },
    pause: () => { entry.control.setPaused(true) },
    resume: () => { entry.control.setPaused(false) },
    cancel: () => {
      if (detached) return
      detached = true
      if (opts.onProgress != null) entry.listeners.delete(opts.onProgress)
      // The shared download stops only when nobody else is waiting for it.
      if (--entry.attached === 0) {
        entry.control.discard = true
        entry.control.abort.abort(new AbortedError('pull'))
      }
    }
  }
}

/** A bandwidth cap in MB/s: a finite number of 0 (none) or more. */
function checkRate (mbps: number): number {
  if (typeof mbps !== 'number' || !Number.isFinite(mbps) || mbps < 0) throw new InvalidArgumentError(`download limit must be a number of MB/s, 0 or more (0: none); got ${String(mbps)}`)
  return mbps
}

/**
 * Parses what was given to a pull (a CID, or any content path form:
 * ipld/content-path.ts); InvalidCidError / InvalidContentPathError or
 * UnsupportedContentError before anything is fetched.
 */
function parsePullTarget (input: string): ContentPath {
  const target = parseContentPath(input)
  assertSupportedCid(target.cid)
  return target
}

/**
 * Checks a pull's input without fetching anything — the CID or content path
 * parses and is supported, the id and file name are safe — and returns the
 * registry id it will use and the content path (`<cid>/a/b`).
 */
export function checkPullInput (cid: string, name?: string, filename?: string): { id: string, cid: string } {
  const target = parsePullTarget(cid)
  if (filename != null) checkEntryName(filename)
  return { id: presetModelId(name, filename, target.segments.at(-1)) ?? shortCidId(target.cid.toString()), cid: formatContentPath(target) }
}

/**
 * The id a pull is known by before it has the content: `name`, else derived
 * from `filename`, else the short CID. Without either, the registry id is
 * decided from the content once it is verified (the GGUF `general.name`, else
 * the short CID: models/naming.ts), so it may differ from this one.
 */
export function pullModelId (cid: string, name?: string, filename?: string): string {
  return presetModelId(name, filename) ?? shortCidId(cid)
}

/**
 * The id the user chose (`name`, or derived from `filename`, or from the last
 * name of a content path); undefined when the content decides it.
 */
function presetModelId (name: string | undefined, filename: string | undefined, pathName?: string): string | undefined {
  if (name != null) return sanitizeModelId(name)
  if (filename != null) return modelIdFromName(filename)
  return pathName != null ? modelIdFromName(withoutExtension(pathName)) : undefined
}

/**
 * `tiny-Q4_K_M.gguf` → `tiny-Q4_K_M`: a file extension is a dot, a letter and
 * up to 11 more letters, digits or `_` at the end, so a folder named
 * `Qwen2.5-7B` or `Qwen2.5` keeps its dots.
 */
function withoutExtension (name: string): string {
  const stem = name.replace(/\.[A-Za-z][A-Za-z0-9_]{0,11}$/, '')
  return stem === '' ? name : stem
}

/** The sources a pull reads from: exactly the given ones, else the configured ones (the daemon first when it runs). */
async function sourcesFor (opts: PullOptions): Promise<ResolvedSources> {
  return opts.sources != null
    ? { sources: opts.sources.map(s => typeof s === 'string' ? new GatewaySource(s, { stallMs: opts.stallMs }) : s), daemonRpc: undefined }
    : await resolveSources({ config: opts.config, mode: opts.source, publicGateways: opts.publicGateways, stallMs: opts.stallMs, env: opts.env })
}

/** Pulls a CID and resolves when it is verified, in place and registered. */
export async function pull (opts: PullOptions): Promise<PullResult> {
  return await startPull(opts).result
}



async function runPull (opts: PullOptions, control: PullControl, signal: AbortSignal, emit: (e: PullEvent) => void): Promise<PullResult> {
  const p = control.progress
  const setStatus = (status: DownloadStatus): void => {
    p.status = status
    emit({ type: 'citrate:pull:progress', progress: { ...p } })
  }
  const target = parsePullTarget(opts.cid)
  const pathName = target.segments.at(-1)
  if (opts.filename != null) checkEntryName(opts.filename)
  // Undefined: no name was given, and the content decides the id once it is verified (models/naming.ts).
  const id = presetModelId(opts.name, opts.filename, pathName)
  // A path inside the content: resolved through verified folder nodes, then only its target is pulled.
  let resolved: ResolvedSources | undefined
  let cid = target.cid
  let resolvedBytes = 0
  if (target.segments.length > 0) {
    setStatus('Connecting')
    resolved = await sourcesFor(opts)
    const found = await resolvePathFromSources(target.cid, target.segments, {
      sources: resolved.sources,
      signal,
      onSourceFailed: (f) => { emit({ type: 'citrate:pull:source-failed', ...f }) }
    })
    cid = found.cid
    resolvedBytes = found.fetchedBytes
    assertSupportedCid(cid)
    log('%s resolves to %s', formatContentPath(target), cid.toString())
  }
  const cidText = cid.toString()
  p.cid = cidText
  const kind = opts.kind ?? 'model'
  // The name from the path wins over `model.<ext>` (and a folder's CID) for the file or folder in the model's folder.
  const filename = opts.filename ?? pathName
  const registry = registryOf(opts.config)

  // Already verified, in place and registered: nothing to fetch.
  const completeWith = async (entry: ModelEntry): Promise<PullResult> => {
    p.total_bytes = p.downloaded_bytes = entry.size_bytes
    p.progress_percent = 100
    setStatus('Complete')
    return await presentResult(entry, entryDir(opts.config.paths, entry))
  }
  // A verified copy under another id (v0 or v1 spelling) is cloned and re-proved instead of fetched (models/reuse.ts).
  // A pull with no id of its own has nothing to clone into: the copy there is the result.
  const reuseLocal = opts.reuseLocal ?? opts.sources == null
  const reuse = async (): Promise<PullResult | undefined> => {
    if (!reuseLocal || id == null) return undefined
    const targetDir = entryDir(opts.config.paths, { id, kind })
    const r = await reuseLocalCopy({ paths: opts.config.paths, registry, cid, id, kind, name: filename ?? opts.name ?? cidText, filename, targetDir, signal, onVerifying: () => { setStatus('Verifying') } })
    if (r == null) return undefined
    emit({ type: 'citrate:pull:committed', id, path: targetDir })
    p.source = 'local'
    for (const l of r.skippedSymlinks) emit({ type: 'citrate:pull:symlink-skipped', ...l })
    return { ...await completeWith(r.entry), alreadyPresent: false, reusedFrom: r.from, skippedSymlinks: r.skippedSymlinks }
  }
  const already = await alreadyInPlace(opts.config.paths, registry, id, cidText, kind)
  if (already != null) {
    await dropCommittedWorkFolder(join(opts.config.paths.pulls, cidText), cid, already.id, registry, signal)
    return await completeWith(already)
  }

  setStatus('Queued')
  // While another id's pull of this CID downloads in this process, wait for it (then reuse it).
  const release = reuseLocal ? await claimCidDownload(opts.config.paths.home, cid, signal) : () => {}
  try {
    const reused = await reuse()
    if (reused != null) return reused
    // p-queue's own signal option also races a running task against the abort,
    // which would settle the pull before its cleanup ran: only a pull still
    // waiting for a slot is taken out of the queue; a running one stops itself.
    let started = false
    const dequeue = new AbortController()
    const onAbort = (): void => { if (!started) dequeue.abort(new AbortedError('pull')) }
    if (signal.aborted) throw new AbortedError('pull')
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      return await downloadSlots.add(async () => {
        started = true
        return await download({ opts, control, signal, emit, setStatus, completeWith, reuse, cid, id, kind, filename, registry, resolved, resolvedBytes, contentPath: target.segments.length > 0 ? formatContentPath(target) : undefined })
      }, { signal: dequeue.signal })
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  } finally {
    release()
  }
}

/** A folder's files declare their sizes one by one: free space is checked again after this much more. */
const SPACE_CHECK_STEP = 64 * 1024 * 1024

/** The rest of the content must fit in the work folder, and (when models live on another filesystem) all of it there too. */
function ensurePullSpace (workDir: string, modelsRoot: string, total: number, onDisk: number): void {
  const work = freeBytes(workDir)
  ensureSpace(workDir, total - onDisk, work)
  const models = freeBytes(modelsRoot)
  if (work != null && models != null && work.dev !== models.dev) ensureSpace(modelsRoot, total, models)
}

/** Failures no retry of the same pull can cure: its work folder is useless. */
const REFUSED_FOR_GOOD: ReadonlySet<string> = new Set(['UNSUPPORTED', 'SIZE_LIMIT_EXCEEDED', 'INVALID_DAG', 'UNSAFE_NAME'])

interface DownloadContext {
  opts: PullOptions
  control: PullControl
  signal: AbortSignal
  emit: (e: PullEvent) => void
  setStatus: (status: DownloadStatus) => void
  completeWith: (entry: ModelEntry) => Promise<PullResult>
  /** Clones a verified copy held under another id, if any (nothing fetched). */
  reuse: () => Promise<PullResult | undefined>
  cid: CID
  /** The id the user chose; undefined: decided from the content (models/naming.ts). */
  id?: string
  kind: ModelKind
  /** The file name the user chose (or the content path's last name); undefined: `model.<ext>` for a file (a folder's files keep their names). */
  filename?: string
  registry: ModelRegistry
  /** Sources already found to resolve a content path (reused, not looked up again). */
  resolved?: ResolvedSources
  /** Bytes of the folder nodes fetched to resolve the content path. */
  resolvedBytes?: number
  /** `<root>/a/b` when a path inside the content was pulled. */
  contentPath?: string
}

/** The pull once it has a download slot: retrieve, commit into models/, register, auto-pin. */
async function download (c: DownloadContext): Promise<PullResult> {
  const { opts, control, signal, emit, setStatus, cid, kind, registry } = c
  const p = control.progress
  const cidText = cid.toString()
  let retrieval: Retrieval | undefined
  let timer: NodeJS.Timeout | undefined
  // File bytes on disk (resumed or new): what a failed pull's work folder is worth keeping for.
  let placed = 0
  try {
    // Another process pulling the same CID holds the work folder: wait (Queued), then resume from its progress.
    retrieval = await Retrieval.open(cid, join(opts.config.paths.pulls, cidText), {
      signal,
      onLockLost: (err) => { control.abort.abort(err) },
      onWait: () => { emit({ type: 'citrate:pull:waiting', cid: cidText, reason: 'waiting for another citrate-ipfs process that is downloading this CID' }) }
    })
    const r = retrieval
    // A commit a crash interrupted: finished if the model was already in place, else undone (the bytes stay, re-proved by the walk).
    const recovered = await recoverCommit(r, registry)
    if (recovered.state !== 'none') log('%s: an interrupted commit was %s', cidText, recovered.state === 'placed' ? `complete (${recovered.entry.id}); finishing it` : 'undone; re-proving the bytes on disk')
    // Another process may have finished this very pull while we waited for the lock (or a crash left only its clean-up).
    const finished = await alreadyInPlace(opts.config.paths, registry, c.id, cidText, kind)
    if (finished != null) { await r.finish(); retrieval = undefined; return await c.completeWith(finished) }
    // Or it finished under another id: reuse those bytes, and drop this work folder.
    const reused = await c.reuse()
    if (reused != null) { await r.finish(); retrieval = undefined; return reused }

    setStatus('Connecting')
    const { sources, daemonRpc } = c.resolved ?? await sourcesFor(opts)
    const resumedBytes = r.resumedBytes
    if (resumedBytes > 0) emit({ type: 'citrate:pull:resumed', cid: cidText, bytes: resumedBytes })

    let started = false
    let spaceCheckedAt = 0
    const perSource = new SourceSampler()
    let lastSample = { at: Date.now(), bytes: 0 }
    let newBytes = 0
    const sample = (): void => {
      const now = Date.now()
      const dt = (now - lastSample.at) / 1000
      const stats = r.sourceStats
      if (stats.length > 0) p.sources = perSource.sample(stats, dt, control.paused)
      if (dt > 0) {
        const rate = (newBytes - lastSample.bytes) / dt
        // Exponential smoothing keeps the figure readable without hiding a stall for long.
        p.speed_mbps = control.paused ? 0 : Math.round((p.speed_mbps * 0.6 + (rate / 1e6) * 0.4) * 100) / 100
        lastSample = { at: now, bytes: newBytes }
      }
      p.downloaded_bytes = placed
      p.progress_percent = p.total_bytes > 0 ? Math.min(100, Math.round((placed / p.total_bytes) * 10000) / 100) : 0
      p.eta_seconds = p.speed_mbps > 0 && p.total_bytes >= placed ? Math.round((p.total_bytes - placed) / (p.speed_mbps * 1e6)) : null
      p.source = r.currentSource
      if (control.paused) p.status = 'Paused'
      else if (started || p.status === 'Paused') p.status = started ? 'Downloading' : 'Connecting'
      emit({ type: 'citrate:pull:progress', progress: { ...p } })
    }
    timer = setInterval(sample, opts.progressIntervalMs ?? 250)
    timer.unref()

    const startedAt = Date.now()
    const walk = await r.run({
      sources,
      signal,
      // Blocks held at once (≤ 2 MiB each): more only when several sources share the work.
      concurrency: opts.concurrency ?? (sources.length > 1 ? 16 : 8),
      streams: opts.streams,
      fsync: opts.fsync ?? opts.config.ipfs.fsync,
      maxBytes: Math.floor(opts.config.ipfs.max_model_size_gb * 1024 ** 3),
      rangeBytes: opts.rangeBytes ?? Math.min(opts.config.ipfs.chunk_size_mb * 1024 * 1024, 64 * 1024 * 1024),
      gate: control.gate,
      isPaused: () => control.paused,
      symlinks: opts.symlinks,
      onBytes: (n, resumed) => {
        placed += n
        if (!resumed) newBytes += n
        if (!started) { started = true; setStatus('Downloading') }
      },
      onDeclared: (total) => {
        p.total_bytes = total
        // When the size first shows, and each time a folder's declared files add SPACE_CHECK_STEP more.
        if (spaceCheckedAt === 0 || total - spaceCheckedAt >= SPACE_CHECK_STEP) {
          spaceCheckedAt = total
          ensurePullSpace(r.dir, kindRoot(opts.config.paths, kind), total, placed)
        }
      },
      limiter: control.limiter,
      onSourceFailed: (f) => {
        log('%s: %s failed%s: %s', cidText, f.source, f.dropped ? ' (dropped)' : '', f.reason)
        emit({ type: 'citrate:pull:source-failed', ...f })
      }
    })
    clearInterval(timer)
    timer = undefined
    const seconds = (Date.now() - startedAt) / 1000
    log('%s: %d bytes in %ss (%s MB/s) from %o', cidText, walk.fetchedBytes, seconds.toFixed(1), (walk.fetchedBytes / 1e6 / Math.max(seconds, 0.001)).toFixed(1), walk.usedSources.map(s => s.name))
    p.total_bytes = walk.totalBytes
    for (const l of walk.skippedSymlinks) {
      log('%s: symlink %s -> %s not written: %s', cidText, l.path, l.target, l.reason)
      emit({ type: 'citrate:pull:symlink-skipped', ...l })
    }
    sample()
    setStatus('Verifying')

    // Names from the verified content when the user gave none: `model.<ext>` from the first bytes, the id from the GGUF header.
    const naming = await nameFromContent(r.contentPath, walk.type)
    // A folder's files land directly in the model folder, exactly as published; a file lands in it under its name.
    const filename = walk.type === 'directory' ? '' : c.filename ?? naming.filename ?? cidText
    const id = c.id ?? await freeModelId(registry, cidText, naming.info.name, (id) => entryDir(opts.config.paths, { id, kind }))
    const targetDir = entryDir(opts.config.paths, { id, kind })

    // Commit (models/commit.ts): staged in the work folder, moved into place, registered last; a crash at any step is finished by the next pull.
    const sourcesUsed = walk.usedSources
    const fromDaemonOnly = sourcesUsed.length > 0 && sourcesUsed.every(s => s.kind === 'daemon')
    const entry: ModelEntry = {
      id,
      name: c.filename ?? opts.name ?? naming.info.name ?? cidText,
      cid: cidText,
      size_bytes: walk.totalBytes,
      // The header's quantization (GGUF general.file_type) over the file name's.
      quantization: naming.info.quantization ?? guessQuantization(filename !== '' ? filename : c.filename ?? ''),
      downloaded_at: new Date().toISOString(),
      path: walk.type === 'directory' ? targetDir : join(targetDir, filename),
      source: fromDaemonOnly || sourcesUsed.length === 0 ? 'ipfs' : 'gateway',
      source_url: sourcesUsed.find(s => s.kind === 'gateway')?.name ?? null,
      verified: true,
      kind,
      info: naming.info
    }
    await commitPull({
      retrieval: r,
      root: cid,
      entry,
      targetDir,
      type: walk.type,
      filename,
      metadata: { type: walk.type, files: walk.files },
      config: { model_path: toStoredPath(opts.config.paths.home, entry.path), kind, format: naming.info.format },
      registry,
      home: opts.config.paths.home,
      hook: opts.commitHook
    })
    emit({ type: 'citrate:pull:committed', id, path: targetDir })

    let pinned = false
    if (opts.config.ipfs.auto_pin && daemonRpc == null && opts.sources == null) {
      entry.pin_pending = true
      await registry.update(id, { pin_pending: true })
      emit({ type: 'citrate:pull:pin-skipped', cid: cidText, reason: DAEMON_NOT_RUNNING_PIN_REASON })
    }
    if (opts.config.ipfs.auto_pin && daemonRpc != null) {
      try {
        const timeoutMs = opts.config.ipfs.pin_timeout_seconds * 1000
        if (fromDaemonOnly) {
          // The daemon served every block, so it holds them all: pinning fetches nothing.
          await daemonRpc.json('pin/add', { arg: cidText, name: id }, { timeoutMs, signal })
        } else {
          // Gateways served (some of) it: hand kubo the verified blocks as a CAR so pinning fetches nothing.
          await handToKubo({ root: cid, blocks: r.blocks(entry.path), rpc: daemonRpc, timeoutMs, signal })
        }
        pinned = true
        emit({ type: 'citrate:pull:pinned', cid: cidText })
      } catch (err) {
        entry.pin_pending = true
        await registry.update(id, { pin_pending: true }).catch(() => {})
        emit({ type: 'citrate:pull:pin-skipped', cid: cidText, reason: `${toCitrateError(err).message}; marked to pin again when the daemon starts` })
      }
    }
    await r.finish()
    retrieval = undefined
    p.downloaded_bytes = walk.totalBytes
    p.progress_percent = 100
    p.eta_seconds = 0
    setStatus('Complete')
    return {
      entry,
      dir: targetDir,
      path: entry.path,
      type: walk.type,
      totalBytes: walk.totalBytes,
      fetchedBytes: walk.fetchedBytes + (c.resolvedBytes ?? 0),
      resumedBytes,
      sources: sourcesUsed.map(s => s.name),
      failures: walk.failures,
      shares: sourceShares(r.sourceStats),
      pinned,
      alreadyPresent: false,
      skippedSymlinks: walk.skippedSymlinks,
      ...(c.contentPath != null ? { contentPath: c.contentPath } : {})
    }
  } catch (err) {
    const e = signal.aborted ? new AbortedError('pull') : toCitrateError(err)
    p.status = { Failed: e.message }
    emit({ type: 'citrate:pull:progress', progress: { ...p } })
    // Cancelled, refused for good, or nothing of the content on disk: drop the work folder (only while we
    // hold the lock: otherwise it is another process's). Otherwise it stays for the next run to resume.
    if (control.discard || (!signal.aborted && (REFUSED_FOR_GOOD.has(e.code) || (placed === 0 && (retrieval?.resumedBytes ?? 0) === 0)))) await retrieval?.discard()
    throw e
  } finally {
    if (timer != null) clearInterval(timer)
    await retrieval?.close()
  }
}

/**
 * An earlier pull of this CID under this id is complete: the registry says so,
 * or (after a crash between the move and the registry write) the folder's own
 * .citrate/metadata.json does, in which case the registry entry is written now.
 */
async function alreadyInPlace (paths: CitratePaths, registry: ModelRegistry, id: string | undefined, cid: string, kind: ModelKind): Promise<ModelEntry | undefined> {
  // No id chosen: any verified entry of this kind holding this CID is the result.
  if (id == null) {
    for (const m of await registry.list()) {
      if (sameCid(m.cid, cid) && m.kind === kind && m.verified && await pathExists(m.path)) return m
    }
    return undefined
  }
  const targetDir = entryDir(paths, { id, kind })
  const existing = await registry.get(id)
  const dirExists = await pathExists(targetDir)
  if (existing != null) {
    if (existing.cid === cid && existing.verified && await pathExists(existing.path)) return existing
    throw new TargetExistsError(`model id "${id}" (registered for ${existing.cid})`)
  }
  if (!dirExists) return undefined
  try {
    const meta = JSON.parse(await readFile(bookkeepingPath(targetDir, METADATA_FILE), 'utf8')) as ModelEntry
    const path = fromStoredPath(paths.home, meta.path)
    if (meta.cid === cid && meta.verified && meta.id === id && meta.kind === kind && await pathExists(path)) {
      const entry: ModelEntry = {
        id: meta.id, name: meta.name, cid: meta.cid, size_bytes: meta.size_bytes, quantization: meta.quantization, downloaded_at: meta.downloaded_at,
        path, source: meta.source, source_url: meta.source_url, verified: true, kind: meta.kind, ...(meta.info != null ? { info: meta.info } : {})
      }
      await registry.upsert(entry)
      return entry
    }
  } catch { /* not ours */ }
  throw new TargetExistsError(targetDir)
}

/** How long a finished pull waits to tidy its CID's work folder when another process holds it (then leaves it). */
const TIDY_LOCK_WAIT_MS = 6000

/**
 * A crash after the model was in place (before the work folder was removed)
 * leaves the work folder behind: the next pull of the id finds the model
 * complete and removes it, if the interrupted commit was this id's.
 */
async function dropCommittedWorkFolder (workDir: string, cid: CID, id: string, registry: ModelRegistry, signal: AbortSignal): Promise<void> {
  if (pendingCommitId(await readFile(join(workDir, COMMIT_MARKER), 'utf8').catch(() => '')) !== id) return
  const waited = AbortSignal.any([signal, AbortSignal.timeout(TIDY_LOCK_WAIT_MS)])
  const r = await Retrieval.open(cid, workDir, { signal: waited }).catch(() => undefined)
  if (r == null) return
  try {
    if ((await recoverCommit(r, registry)).state === 'placed') await r.finish()
  } finally {
    await r.close()
  }
}

async function presentResult (entry: ModelEntry, dir: string): Promise<PullResult> {
  const type = (await lstat(entry.path)).isDirectory() ? 'directory' : 'file'
  return { entry, dir, path: entry.path, type, totalBytes: entry.size_bytes, fetchedBytes: 0, resumedBytes: 0, sources: [], failures: [], shares: [], pinned: false, alreadyPresent: true, skippedSymlinks: [] }
}
