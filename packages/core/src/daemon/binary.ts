/**
 * Finding kubo and checking its version: `daemon_path` first, then
 * `$CITRATE_HOME/bin` (what `install` put there: the user's update), then a kubo
 * bundled beside our own executable (the Tauri app's second sidecar), then PATH.
 */
import { execFile } from 'node:child_process'
import { access, constants, readFile, stat } from 'node:fs/promises'
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { KuboBinaryError, KuboNotInstalledError, KuboTooOldError } from '../errors.ts'
import { bundledKuboNames, executableCandidates } from '../platform.ts'
import { writeFileAtomic } from '../util/atomic-write.ts'

const execFileAsync = promisify(execFile)

/**
 * The oldest kubo we drive. 0.36 brought the `--migrate` behaviour, AutoConf
 * opt-out keys and trustless gateway responses we rely on; older releases are
 * refused with the version found and this one.
 */
export const MIN_KUBO_VERSION = '0.36.0'

export interface KuboBinary {
  path: string
  version: string
  /** Where it was found. */
  source: 'daemon_path' | 'citrate_home' | 'bundled' | 'path'
}

export interface FindKuboOptions {
  daemonPath: string
  installedPath: string
  env?: NodeJS.ProcessEnv
  minVersion?: string
  /**
   * The folder a bundled kubo sits in: our own executable's when we run as a single executable
   * (see `bundledKuboDir`); undefined when we are not packaged (a Node install has no kubo beside node).
   */
  bundledDir?: string
  /**
   * A file remembering the version of the binary last checked (path, size, mtime, inode): running
   * `ipfs version` costs 60–80 ms of a 0.1 s `status`, and the answer only changes with the file.
   */
  versionCache?: string
}

/** The packaged executable's folder, or undefined when running on a plain Node. */
export function bundledKuboDir (): string | undefined {
  return isSingleExecutable() ? dirname(process.execPath) : undefined
}

/** True inside a Node single executable application (`node:sea`), false on plain Node. */
export function isSingleExecutable (): boolean {
  try {
    // getBuiltinModule: a synchronous, bundler-proof lookup; node:sea exists from Node 20.
    const sea = process.getBuiltinModule('node:sea') as { isSea?: () => boolean } | undefined
    return sea?.isSea?.() === true
  } catch {
    return false
  }
}

/** Locates kubo without running it; undefined when there is none. */
export async function locateKubo (opts: FindKuboOptions): Promise<{ path: string, source: KuboBinary['source'] } | undefined> {
  const env = opts.env ?? process.env
  const dp = opts.daemonPath
  // A daemon_path with a directory part is a path; a bare name is looked up on PATH last.
  if (isAbsolute(dp) || dp.includes('/') || dp.includes('\\')) {
    const p = resolve(dp)
    if (await isExecutable(p)) return { path: p, source: 'daemon_path' }
  }
  if (await isExecutable(opts.installedPath)) return { path: opts.installedPath, source: 'citrate_home' }
  const bundledDir = opts.bundledDir ?? bundledKuboDir()
  if (bundledDir != null) {
    for (const name of bundledKuboNames()) {
      const p = join(bundledDir, name)
      if (await isExecutable(p)) return { path: p, source: 'bundled' }
    }
  }
  const name = isAbsolute(dp) || dp.includes('/') || dp.includes('\\') ? 'ipfs' : dp
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    for (const candidate of executableCandidates(name)) {
      const p = join(dir, candidate)
      if (await isExecutable(p)) return { path: p, source: 'path' }
    }
  }
  return undefined
}

/** Finds kubo, reads its version and refuses one older than the minimum. */
export async function findKubo (opts: FindKuboOptions): Promise<KuboBinary> {
  const found = await locateKubo(opts)
  if (found == null) {
    throw new KuboNotInstalledError(`kubo (ipfs) was not found at daemon_path "${opts.daemonPath}", in ${opts.installedPath} or on PATH`)
  }
  const version = await cachedKuboVersion(found.path, opts.versionCache)
  const min = opts.minVersion ?? MIN_KUBO_VERSION
  if (compareVersions(version, min) < 0) throw new KuboTooOldError(found.path, version, min)
  return { ...found, version }
}

interface VersionCacheEntry { path: string, size: number, mtimeMs: number, ino: number, version: string }

async function cachedKuboVersion (binary: string, cacheFile: string | undefined): Promise<string> {
  if (cacheFile == null) return await kuboVersion(binary)
  const st = await stat(binary).catch(() => undefined)
  if (st == null) return await kuboVersion(binary)
  const key = { path: binary, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino }
  try {
    const c = JSON.parse(await readFile(cacheFile, 'utf8')) as VersionCacheEntry
    if (c.path === key.path && c.size === key.size && c.mtimeMs === key.mtimeMs && c.ino === key.ino && typeof c.version === 'string' && /^\d+\.\d+\.\d+/.test(c.version)) return c.version
  } catch { /* no cache yet, or unreadable: ask the binary */ }
  const version = await kuboVersion(binary)
  // Best effort: a home without its run folder yet (a first `status`) just asks again next time.
  if (await stat(dirname(cacheFile)).then(d => d.isDirectory(), () => false)) {
    await writeFileAtomic(cacheFile, JSON.stringify({ ...key, version } satisfies VersionCacheEntry) + '\n').catch(() => {})
  }
  return version
}

export async function kuboVersion (binary: string): Promise<string> {
  let stdout: string
  try {
    ({ stdout } = await execFileAsync(binary, ['version', '--number'], { timeout: 15_000, env: { ...process.env, IPFS_TELEMETRY: 'off' } }))
  } catch (err) {
    throw new KuboBinaryError(`could not run ${binary} version: ${(err as Error).message.split('\n')[0] ?? ''}`, { cause: err })
  }
  const version = stdout.trim().replace(/^v/, '')
  if (!/^\d+\.\d+\.\d+/.test(version)) throw new KuboBinaryError(`${binary} printed an unexpected version "${stdout.trim()}"; is it kubo?`)
  return version
}

/** Compares dotted versions (a pre-release sorts before its release). */
export function compareVersions (a: string, b: string): number {
  const parse = (v: string): { nums: number[], pre: string } => {
    const [main = '', pre = ''] = v.replace(/^v/, '').split('-', 2)
    return { nums: main.split('.').map(n => Number.parseInt(n, 10) || 0), pre }
  }
  const pa = parse(a)
  const pb = parse(b)
  for (let i = 0; i < 3; i++) {
    const d = (pa.nums[i] ?? 0) - (pb.nums[i] ?? 0)
    if (d !== 0) return Math.sign(d)
  }
  if (pa.pre === pb.pre) return 0
  if (pa.pre === '') return 1
  if (pb.pre === '') return -1
  return pa.pre < pb.pre ? -1 : 1
}

async function isExecutable (p: string): Promise<boolean> {
  try {
    await access(p, process.platform === 'win32' ? constants.F_OK : constants.X_OK)
    return true
  } catch {
    return false
  }
}
