/**
 * What keeps other programs and web pages out of the service:
 * - it listens on 127.0.0.1 only;
 * - a Host header that is not a loopback name is refused (DNS rebinding);
 * - an Origin not on the allowlist is refused (other web pages);
 * - every API request carries the per-install token, compared in constant time.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { chmod, mkdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { writeFileAtomic } from '@citrate-ipfs/core'

/** Origins of the Citrate app's Tauri webview (macOS/Linux and Windows forms). */
export const TAURI_ORIGINS = ['tauri://localhost', 'http://tauri.localhost', 'https://tauri.localhost']

export function tokenPath (home: string): string {
  return join(home, 'run', 'service-token')
}

/** Reads the per-install token, creating it (mode 0600) on first use. */
export async function loadOrCreateToken (home: string): Promise<string> {
  const path = tokenPath(home)
  try {
    const existing = (await readFile(path, 'utf8')).trim()
    if (/^[0-9a-f]{64}$/.test(existing)) {
      await chmod(path, 0o600)
      return existing
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const token = randomBytes(32).toString('hex')
  await mkdir(dirname(path), { recursive: true })
  await writeFileAtomic(path, token + '\n', { mode: 0o600 })
  return token
}

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]'])

/** Host must name this machine and this port; anything else is a rebinding attempt. */
export function isAllowedHost (host: string | undefined, port: number): boolean {
  if (host == null) return false
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host.trim().toLowerCase())
  if (m == null) return false
  const name = m[1] ?? ''
  const p = m[2] == null ? 80 : Number(m[2])
  return LOOPBACK_NAMES.has(name) && p === port
}

export function ownOrigins (port: number): string[] {
  return [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`]
}

export function isTokenValid (header: string | undefined, token: string): boolean {
  if (header == null) return false
  const m = /^Bearer\s+(\S+)$/i.exec(header)
  if (m?.[1] == null) return false
  const a = Buffer.from(m[1])
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}
