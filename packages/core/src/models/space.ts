/**
 * Free-space checks before bytes are written: a pull that cannot fit fails
 * at once with where, how much is needed and how much is free (DiskFullError),
 * instead of an ENOSPC after minutes of download.
 */
import { statfsSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { DiskFullError } from '../errors.ts'

export interface FreeSpace {
  bytes: number
  /** The nearest existing ancestor of the path asked about (where statfs answered). */
  on: string
  /** Its device: two paths with one device share their free space. */
  dev: number
}

/** Bytes free for this user on the filesystem holding `path` (its nearest existing ancestor); undefined where statfs fails. */
export function freeBytes (path: string): FreeSpace | undefined {
  let p = path
  while (true) {
    try {
      const s = statfsSync(p)
      return { bytes: Number(s.bavail) * Number(s.bsize), on: p, dev: statSync(p).dev }
    } catch (err) {
      const parent = dirname(p)
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === p) return undefined
      p = parent
    }
  }
}

/** Throws DiskFullError when `neededBytes` more do not fit where `path` is (`free`: its freeBytes, when already known). */
export function ensureSpace (path: string, neededBytes: number, free = freeBytes(path)): void {
  if (neededBytes > 0 && free != null && free.bytes < neededBytes) throw new DiskFullError(path, neededBytes, free.bytes)
}
