/**
 * Everything that differs between macOS, Windows and Linux lives here, so it can be
 * unit-tested on one machine by passing the platform and architecture in.
 */
import { homedir } from 'node:os'
import { join } from 'node:path'
import { UnsupportedPlatformError } from './errors.ts'

export type DistOs = 'darwin' | 'linux' | 'windows' | 'freebsd'
export type DistArch = 'amd64' | 'arm64' | '386' | 'arm'

export interface PlatformInfo {
  platform: NodeJS.Platform
  arch: string
}

export const currentPlatform: PlatformInfo = { platform: process.platform, arch: process.arch }

/** Maps Node's names to the names the kubo dist site uses in its archive names. */
export function distTarget (p: PlatformInfo = currentPlatform): { os: DistOs, arch: DistArch } {
  const os: DistOs | undefined = ({ darwin: 'darwin', linux: 'linux', win32: 'windows', freebsd: 'freebsd' } as const)[p.platform as 'darwin' | 'linux' | 'win32' | 'freebsd']
  const arch: DistArch | undefined = ({ x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' } as const)[p.arch as 'x64' | 'arm64' | 'ia32' | 'arm']
  if (os == null || arch == null) {
    throw new UnsupportedPlatformError(`kubo is not published for ${p.platform}/${p.arch}`)
  }
  return { os, arch }
}

/** `kubo_v0.43.1_linux-amd64.tar.gz`; Windows builds ship as `.zip`. */
export function kuboArchiveName (version: string, p: PlatformInfo = currentPlatform): string {
  const { os, arch } = distTarget(p)
  return `kubo_${version}_${os}-${arch}.${archiveFormat(p)}`
}

export function archiveFormat (p: PlatformInfo = currentPlatform): 'tar.gz' | 'zip' {
  return p.platform === 'win32' ? 'zip' : 'tar.gz'
}

export function kuboBinaryName (p: PlatformInfo = currentPlatform): string {
  return p.platform === 'win32' ? 'ipfs.exe' : 'ipfs'
}

/**
 * Rust's target triple for this platform: Tauri names a sidecar (`bundle.externalBin`)
 * `<name>-<triple>` on disk, e.g. `citrate-ipfs-x86_64-unknown-linux-gnu`. Windows is the MSVC ABI
 * (what Tauri builds by default), Linux the GNU one (Node's official builds link glibc).
 */
export function rustTargetTriple (p: PlatformInfo = currentPlatform): string {
  const arch = ({ x64: 'x86_64', arm64: 'aarch64' } as const)[p.arch as 'x64' | 'arm64']
  const os = ({ darwin: 'apple-darwin', linux: 'unknown-linux-gnu', win32: 'pc-windows-msvc' } as const)[p.platform as 'darwin' | 'linux' | 'win32']
  if (arch == null || os == null) throw new UnsupportedPlatformError(`no Tauri sidecar target for ${p.platform}/${p.arch}`)
  return `${arch}-${os}`
}

/** A sidecar's file name by Tauri's convention: `citrate-ipfs-aarch64-apple-darwin`, `ipfs-x86_64-pc-windows-msvc.exe`. */
export function sidecarFileName (name: string, p: PlatformInfo = currentPlatform): string {
  return `${name}-${rustTargetTriple(p)}${p.platform === 'win32' ? '.exe' : ''}`
}

/**
 * Where a kubo bundled with this executable may be, in order. In a Tauri app's source tree and
 * in `dist/sidecar` the file carries the triple (`ipfs-<triple>`); a bundled app (`tauri build`)
 * installs its externalBin without it, beside the main executable (`ipfs`, `ipfs.exe`).
 */
export function bundledKuboNames (p: PlatformInfo = currentPlatform): string[] {
  let triple: string[] = []
  try { triple = [sidecarFileName('ipfs', p)] } catch { /* no sidecar naming for this platform: the plain name only */ }
  return [...triple, kuboBinaryName(p)]
}

export function pathListSeparator (p: PlatformInfo = currentPlatform): string {
  return p.platform === 'win32' ? ';' : ':'
}

/** Names to look for on PATH: Windows also tries PATHEXT's extensions. */
export function executableCandidates (name: string, p: PlatformInfo = currentPlatform, pathext = process.env.PATHEXT): string[] {
  if (p.platform !== 'win32') return [name]
  if (/\.[a-z0-9]+$/i.test(name)) return [name]
  const exts = (pathext ?? '.EXE;.CMD;.BAT;.COM').split(';').filter(Boolean)
  return exts.map(ext => name + ext.toLowerCase())
}

/**
 * The signal for a graceful stop. Windows has no SIGTERM delivery: Node's
 * process.kill there terminates outright, so the graceful step is the RPC
 * shutdown alone and the fallback is a forced kill.
 */
export function terminationSignals (p: PlatformInfo = currentPlatform): { graceful: NodeJS.Signals | null, force: NodeJS.Signals } {
  return p.platform === 'win32' ? { graceful: null, force: 'SIGKILL' } : { graceful: 'SIGTERM', force: 'SIGKILL' }
}

/** `CITRATE_HOME`, defaulting to `~/.citrate` (on Windows `%USERPROFILE%\.citrate`). */
export function defaultCitrateHome (env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  const fromEnv = env.CITRATE_HOME
  if (fromEnv != null && fromEnv !== '') return expandHome(fromEnv, home)
  return join(home, '.citrate')
}

/** Expands a leading `~` (and `~/`, `~\`) to the user's home directory. */
export function expandHome (path: string, home = homedir()): string {
  if (path === '~') return home
  if (path.startsWith('~/') || path.startsWith('~\\')) return join(home, path.slice(2))
  return path
}
