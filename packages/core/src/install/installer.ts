/**
 * Installs a pinned kubo release from the dist site into `$CITRATE_HOME/bin`:
 * download → sha512 check → extract (nothing may escape the staging folder) →
 * run it once → rename into place. A failure at any step leaves no binary
 * behind and any previously installed one untouched.
 */
import { createHash, randomBytes } from 'node:crypto'
import { execFile } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { chmod, lstat, mkdir, rename, rm } from 'node:fs/promises'
import { isAbsolute, join, normalize, sep } from 'node:path'
import { Readable } from 'node:stream'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { pipeline } from 'node:stream/promises'
import { promisify } from 'node:util'
import type { InstallProgressEvent, InstallResult as ContractInstallResult } from '@citrate-ipfs/contract'
import type { CitratePaths } from '../config/paths.ts'
import { AbortedError, InstallError, UnsupportedPlatformError } from '../errors.ts'
import { archiveFormat, currentPlatform, kuboArchiveName, kuboBinaryName, type PlatformInfo } from '../platform.ts'
import { compareVersions } from '../daemon/binary.ts'
import { fsyncDir } from '../util/atomic-write.ts'

const execFileAsync = promisify(execFile)

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
}

/** What an install gives: the wire contract's shape. */
export type InstallResult = ContractInstallResult

export async function installKubo (opts: InstallOptions): Promise<InstallResult> {
  const platform = opts.platform ?? currentPlatform
  if (archiveFormat(platform) === 'zip') {
    // Windows releases are zip archives; extracting them is not implemented yet.
    throw new UnsupportedPlatformError('installing kubo on Windows is not supported yet: install kubo yourself and set daemon_path')
  }
  const dist = opts.distUrl.replace(/\/+$/, '')
  const version = await resolveVersion(dist, opts.version, opts.signal)
  const archive = kuboArchiveName(version, platform)
  const url = `${dist}/kubo/${version}/${archive}`
  opts.onProgress?.({ type: 'citrate:install:resolve', version, url })

  const expected = parseSha512File(await fetchText(`${url}.sha512`, opts.signal), `${url}.sha512`)
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
    await safeExtractTarGz(archivePath, extractDir)
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

async function resolveVersion (dist: string, version: string, signal?: AbortSignal): Promise<string> {
  if (version !== 'latest') return version.startsWith('v') ? version : `v${version}`
  const text = await fetchText(`${dist}/kubo/versions`, signal)
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

async function fetchText (url: string, signal?: AbortSignal): Promise<string> {
  const res = await get(url, signal, 30_000)
  return await res.text()
}

/** GET with a time limit on the response headers only; the body is bounded by the caller's stall watchdog. */
async function get (url: string, signal: AbortSignal | undefined, headersTimeoutMs: number): Promise<Response> {
  const headersTimeout = new AbortController()
  const timer = setTimeout(() => headersTimeout.abort(), headersTimeoutMs)
  let res: Response
  try {
    res = await fetch(url, { signal: signal == null ? headersTimeout.signal : AbortSignal.any([signal, headersTimeout.signal]) })
  } catch (err) {
    if (signal?.aborted === true) throw new AbortedError('kubo install')
    const cause = headersTimeout.signal.aborted
      ? `no response within ${headersTimeoutMs / 1000} s`
      : (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message
    throw new InstallError('INSTALL_DOWNLOAD_FAILED', `could not download ${url}: ${cause}`, { cause: err })
  } finally {
    clearTimeout(timer)
  }
  if (!res.ok) throw new InstallError('INSTALL_DOWNLOAD_FAILED', `could not download ${url}: HTTP ${res.status}`)
  return res
}

async function download (url: string, dest: string, opts: InstallOptions): Promise<{ sha512: string, bytes: number }> {
  const stallMs = opts.stallTimeoutMs ?? 30_000
  const stall = new AbortController()
  const signal = opts.signal == null ? stall.signal : AbortSignal.any([opts.signal, stall.signal])
  const res = await get(url, signal, stallMs)
  if (res.body == null) throw new InstallError('INSTALL_DOWNLOAD_FAILED', `${url} sent no body`)
  const total = Number(res.headers.get('content-length')) || undefined
  const hash = createHash('sha512')
  let bytes = 0
  let lastReport = 0
  let timer = setTimeout(() => stall.abort(), stallMs)
  const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>)
  body.on('data', (chunk: Buffer) => {
    hash.update(chunk)
    bytes += chunk.length
    clearTimeout(timer)
    timer = setTimeout(() => stall.abort(), stallMs)
    const now = Date.now()
    if (now - lastReport > 100) {
      lastReport = now
      opts.onProgress?.({ type: 'citrate:install:download', downloadedBytes: bytes, totalBytes: total })
    }
  })
  try {
    await pipeline(body, createWriteStream(dest))
  } catch (err) {
    if (opts.signal?.aborted === true) throw new AbortedError('kubo install')
    const why = stall.signal.aborted ? `no data for ${stallMs / 1000} s` : (err as Error).message
    throw new InstallError('INSTALL_DOWNLOAD_FAILED', `download of ${url} failed: ${why}`, { cause: err })
  } finally {
    clearTimeout(timer)
  }
  if (total != null && bytes !== total) throw new InstallError('INSTALL_DOWNLOAD_FAILED', `download of ${url} ended after ${bytes} of ${total} bytes`)
  opts.onProgress?.({ type: 'citrate:install:download', downloadedBytes: bytes, totalBytes: total ?? bytes })
  return { sha512: hash.digest('hex'), bytes }
}

/**
 * Extracts a .tar.gz, refusing the whole archive if any entry is absolute,
 * climbs out with `..`, or is a link or device: a release archive has none.
 */
export async function safeExtractTarGz (archive: string, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true })
  const refused: string[] = []
  const isSafe = (path: string, type: string | undefined): boolean => {
    const n = normalize(path)
    if (isAbsolute(path) || /^[a-zA-Z]:/.test(path) || n === '..' || n.startsWith(`..${sep}`) || n.split(/[\\/]/).includes('..')) return false
    return type === 'File' || type === 'OldFile' || type === 'Directory' || type === 'ContiguousFile'
  }
  const tar = await import('tar') // loaded on first use: only installs need it
  // Check every entry before writing anything.
  try {
    await tar.t({ file: archive, strict: true, onReadEntry: (entry) => { if (!isSafe(entry.path, entry.type)) refused.push(`${entry.path} (${entry.type})`) } })
  } catch (err) {
    throw new InstallError('INSTALL_ARCHIVE_INVALID', `${archive} is not a readable .tar.gz: ${(err as Error).message}`, { cause: err })
  }
  if (refused.length > 0) {
    throw new InstallError('INSTALL_ARCHIVE_INVALID', `the archive holds entries that could escape the install folder: ${refused.slice(0, 3).join(', ')}; nothing was installed`)
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
