/**
 * Installs a pinned kubo release from the dist site into `$CITRATE_HOME/bin`:
 * download → sha512 check → extract (.tar.gz, or .zip on Windows; nothing may
 * escape the staging folder) → run it once → rename into place. A failure at any step leaves no binary
 * behind and any previously installed one untouched. Every GET runs under the
 * one stall watchdog and retry policy (net/): a transient failure before any
 * byte was written (a refused connection, a 503) is tried again after a backoff.
 */
import { createHash, randomBytes } from 'node:crypto'
import { execFile } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { chmod, lstat, mkdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { pipeline } from 'node:stream/promises'
import { promisify } from 'node:util'
import type { InstallProgressEvent, InstallResult as ContractInstallResult } from '@citrate-ipfs/contract'
import type { CitratePaths } from '../config/paths.ts'
import { AbortedError, CitrateError, InstallError } from '../errors.ts'
import { logger } from '../log.ts'
import type { BackoffOptions } from '../net/backoff.ts'
import { classifyCondition, classifyError, classifyStatus } from '../net/classify.ts'
import { withRetries } from '../net/retry.ts'
import { stallGuard, type StallGuard } from '../net/watchdog.ts'
import { archiveFormat, currentPlatform, kuboArchiveName, kuboBinaryName, type PlatformInfo } from '../platform.ts'
import { compareVersions } from '../daemon/binary.ts'
import { fsyncDir } from '../util/atomic-write.ts'
import { ARCHIVE_LIMITS, unsafeEntryPath, type ArchiveLimits } from './entry-rules.ts'
import { safeExtractZip } from './zip.ts'

const execFileAsync = promisify(execFile)
const log = logger('install')

// Install progress reaches clients as is (as `install-progress` events), so its shape is the contract's.
export type { InstallProgressEvent } from '@citrate-ipfs/contract'

export interface InstallOptions {
  paths: CitratePaths
  /** e.g. `v0.43.0`, or `latest` (read from `{dist}/kubo/versions`). */
  version: string
  distUrl: string
  platform?: PlatformInfo
  signal?: AbortSignal
  onProgress?: (event: InstallProgressEvent) => void
  /** Abort when no bytes arrive for this long; default 30 s. */
  stallTimeoutMs?: number
  /**
   * Tries per download (default 4) and the backoff between them (default:
   * full jitter, base 500 ms, cap 8 s). Only transient failures (classify.ts)
   * before the first byte was written are tried again.
   */
  retry?: { attempts?: number, backoff?: BackoffOptions }
}

/** What an install gives: the wire contract's shape. */
export type InstallResult = ContractInstallResult

export async function installKubo (opts: InstallOptions): Promise<InstallResult> {
  const platform = opts.platform ?? currentPlatform
  const dist = opts.distUrl.replace(/\/+$/, '')
  const version = await resolveVersion(dist, opts)
  const archive = kuboArchiveName(version, platform)
  const url = `${dist}/kubo/${version}/${archive}`
  opts.onProgress?.({ type: 'citrate:install:resolve', version, url })

  const expected = parseSha512File(await fetchText(`${url}.sha512`, opts), `${url}.sha512`)
  await mkdir(opts.paths.bin, { recursive: true })
  const staging = join(opts.paths.bin, `.install-${randomBytes(6).toString('hex')}`)
  await mkdir(staging, { recursive: true })
  try {
    const archivePath = join(staging, archive)
    const { sha512, bytes } = await download(url, archivePath, opts)
    opts.onProgress?.({ type: 'citrate:install:verify', algorithm: 'sha512' })
    if (sha512 !== expected) {
      throw new InstallError('INSTALL_CHECKSUM_MISMATCH', `${archive} failed its sha512 check (expected ${expected.slice(0, 16)}…, got ${sha512.slice(0, 16)}…); nothing was installed`)
    }
    opts.onProgress?.({ type: 'citrate:install:extract' })
    const extractDir = join(staging, 'x')
    await extractorFor(platform)(archivePath, extractDir)
    const staged = join(extractDir, 'kubo', kuboBinaryName(platform))
    const st = await lstat(staged).catch(() => undefined)
    if (st == null || !st.isFile()) throw new InstallError('INSTALL_ARCHIVE_INVALID', `${archive} does not contain kubo/${kuboBinaryName(platform)}`)
    await chmod(staged, 0o755)
    await checkRuns(staged, version)
    const target = opts.paths.installedKubo
    await rename(staged, target)
    await fsyncDir(opts.paths.bin)
    opts.onProgress?.({ type: 'citrate:install:done', path: target, version })
    return { path: target, version, sha512, bytes }
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
}

async function resolveVersion (dist: string, opts: InstallOptions): Promise<string> {
  const version = opts.version
  if (version !== 'latest') return version.startsWith('v') ? version : `v${version}`
  const text = await fetchText(`${dist}/kubo/versions`, opts)
  const releases = text.split('\n').map(l => l.trim()).filter(l => /^v\d+\.\d+\.\d+$/.test(l))
  releases.sort(compareVersions)
  const latest = releases.at(-1)
  if (latest == null) throw new InstallError('INSTALL_DOWNLOAD_FAILED', `${dist}/kubo/versions lists no releases`)
  return latest
}

export function parseSha512File (text: string, source: string): string {
  const m = /^([0-9a-f]{128})\b/i.exec(text.trim())
  if (m?.[1] == null) throw new InstallError('INSTALL_DOWNLOAD_FAILED', `${source} does not hold a sha512 digest`)
  return m[1].toLowerCase()
}

/**
 * A failed download step. `transient` says the failure may pass (classify.ts)
 * and `wrote` whether any byte reached the disk: only a transient failure
 * before the first byte is retried whole, with the backoff.
 */
class DownloadFailure extends InstallError {
  readonly transient: boolean
  readonly wrote: boolean
  constructor (message: string, transient: boolean, wrote: boolean, options?: ErrorOptions) {
    super('INSTALL_DOWNLOAD_FAILED', message, options)
    this.transient = transient
    this.wrote = wrote
  }
}

/** Every GET of the installer: transient failures before a byte was written are tried again, up to `retry.attempts` times. */
async function retried<T> (what: string, opts: Pick<InstallOptions, 'signal' | 'retry'>, fn: () => Promise<T>): Promise<T> {
  return await withRetries(fn, {
    attempts: opts.retry?.attempts ?? 4,
    backoff: { baseMs: 500, maxMs: 8000, ...opts.retry?.backoff },
    signal: opts.signal,
    retryable: err => err instanceof DownloadFailure && err.transient && !err.wrote,
    onRetry: (err, attempt, delay) => { log('%s failed (attempt %d: %s); trying again in %d ms', what, attempt, (err as Error).message, delay) }
  }).catch((err: unknown) => {
    if (opts.signal?.aborted === true) throw new AbortedError('kubo install')
    throw err
  })
}

async function fetchText (url: string, opts: Pick<InstallOptions, 'signal' | 'retry'>): Promise<string> {
  return await retried(url, opts, async () => {
    // Small files: 30 s without a byte, headers or body, is a stall.
    const guard = stallGuard(30_000, opts.signal)
    try {
      const res = await get(url, guard, opts.signal)
      return await res.text()
    } catch (err) {
      throw failure(err, url, guard, opts.signal, false)
    } finally {
      guard.dispose()
    }
  })
}

/** GET under the guard's stall watchdog (armed from the start, so it bounds the wait for headers too). */
async function get (url: string, guard: StallGuard, signal: AbortSignal | undefined): Promise<Response> {
  const res = await fetch(url, { signal: guard.signal })
  guard.watchdog.kick()
  if (!res.ok) {
    await res.body?.cancel().catch(() => {})
    throw new DownloadFailure(`could not download ${url}: HTTP ${res.status}`, classifyStatus(res.status) === 'transient', false)
  }
  if (signal?.aborted === true) throw new AbortedError('kubo install')
  return res
}

/** Any failure of a step as an AbortedError or a classified DownloadFailure with the one wording per cause. */
function failure (err: unknown, url: string, guard: StallGuard, signal: AbortSignal | undefined, wrote: boolean): Error {
  if (signal?.aborted === true) return new AbortedError('kubo install')
  if (err instanceof CitrateError) return err
  if (guard.stalled) return new DownloadFailure(`download of ${url} failed: no data for ${guard.watchdog.ms / 1000} s`, classifyCondition('stalled') === 'transient', wrote, { cause: err })
  const { class: kind, detail } = classifyError(err)
  return new DownloadFailure(`could not download ${url}: ${detail}`, kind === 'transient', wrote, { cause: err })
}

async function download (url: string, dest: string, opts: InstallOptions): Promise<{ sha512: string, bytes: number }> {
  const stallMs = opts.stallTimeoutMs ?? 30_000
  return await retried(url, opts, async () => {
    const guard = stallGuard(stallMs, opts.signal)
    let bytes = 0
    try {
      const res = await get(url, guard, opts.signal)
      if (res.body == null) throw new DownloadFailure(`${url} sent no body`, false, false)
      const total = Number(res.headers.get('content-length')) || undefined
      const hash = createHash('sha512')
      let lastReport = 0
      const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>)
      body.on('data', (chunk: Buffer) => {
        guard.watchdog.kick()
        hash.update(chunk)
        bytes += chunk.length
        const now = Date.now()
        if (now - lastReport > 100) {
          lastReport = now
          opts.onProgress?.({ type: 'citrate:install:download', downloadedBytes: bytes, totalBytes: total })
        }
      })
      // A new file each try: a retry starts from an empty one.
      await pipeline(body, createWriteStream(dest))
      if (total != null && bytes !== total) {
        throw new DownloadFailure(`download of ${url} ended after ${bytes} of ${total} bytes`, classifyCondition('cut-short') === 'transient', bytes > 0)
      }
      opts.onProgress?.({ type: 'citrate:install:download', downloadedBytes: bytes, totalBytes: total ?? bytes })
      return { sha512: hash.digest('hex'), bytes }
    } catch (err) {
      throw failure(err, url, guard, opts.signal, bytes > 0)
    } finally {
      guard.dispose()
    }
  })
}

/** The extractor for the platform's release archive: `.zip` on Windows, `.tar.gz` elsewhere (platform.ts). */
export function extractorFor (platform: PlatformInfo = currentPlatform): (archive: string, dir: string) => Promise<void> {
  return archiveFormat(platform) === 'zip' ? safeExtractZip : safeExtractTarGz
}

/**
 * Extracts a .tar.gz, refusing the whole archive if any entry is absolute,
 * climbs out with `..`, is a link or device, or breaks the size bounds
 * (entry-rules.ts): a release archive has none.
 */
export async function safeExtractTarGz (archive: string, dir: string, limits: ArchiveLimits = ARCHIVE_LIMITS): Promise<void> {
  await mkdir(dir, { recursive: true })
  const refused: string[] = []
  let entries = 0
  let total = 0
  const isSafe = (path: string, type: string | undefined): boolean =>
    unsafeEntryPath(path.replace(/\/+$/, '')) == null && (type === 'File' || type === 'OldFile' || type === 'Directory' || type === 'ContiguousFile')
  const tar = await import('tar') // loaded on first use: only installs need it
  // Check every entry before writing anything.
  try {
    await tar.t({
      file: archive,
      strict: true,
      onReadEntry: (entry) => {
        entries++
        total += entry.size
        if (!isSafe(entry.path, entry.type)) refused.push(`${entry.path} (${entry.type})`)
        else if (entry.size > limits.entryBytes) refused.push(`${entry.path} (${entry.size} bytes, more than ${limits.entryBytes})`)
      }
    })
  } catch (err) {
    throw new InstallError('INSTALL_ARCHIVE_INVALID', `${archive} is not a readable .tar.gz: ${(err as Error).message}`, { cause: err })
  }
  if (refused.length > 0) {
    throw new InstallError('INSTALL_ARCHIVE_INVALID', `the archive holds entries that could escape the install folder: ${refused.slice(0, 3).join(', ')}; nothing was installed`)
  }
  if (entries > limits.entries || total > limits.totalBytes) {
    throw new InstallError('INSTALL_ARCHIVE_INVALID', `${archive} holds ${entries} entries, ${total} bytes (at most ${limits.entries} and ${limits.totalBytes}); nothing was installed`)
  }
  try {
    await tar.x({ file: archive, cwd: dir, strict: true, preservePaths: false, filter: (path, entry) => isSafe(path, (entry as { type?: string }).type) })
  } catch (err) {
    throw new InstallError('INSTALL_ARCHIVE_INVALID', `could not extract ${archive}: ${(err as Error).message}`, { cause: err })
  }
}

async function checkRuns (binary: string, version: string): Promise<void> {
  let out: string
  try {
    ({ stdout: out } = await execFileAsync(binary, ['version', '--number'], { timeout: 20_000, env: { ...process.env, IPFS_TELEMETRY: 'off' } }))
  } catch (err) {
    throw new InstallError('INSTALL_ARCHIVE_INVALID', `the downloaded kubo does not run on this machine: ${(err as Error).message.split('\n')[0] ?? ''}`, { cause: err })
  }
  if (out.trim().replace(/^v/, '') !== version.replace(/^v/, '')) {
    throw new InstallError('INSTALL_ARCHIVE_INVALID', `the downloaded kubo reports version ${out.trim()}, not ${version}`)
  }
}
