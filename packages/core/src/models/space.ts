/**
 * Free-space checks before bytes are written: a pull that cannot fit fails
 * at once with where, how much is needed and how much is free (DiskFullError),
 * instead of an ENOSPC after minutes of download.
 */
import { statfsSync } from 'node:fs'
import { dirname } from 'node:path'
import { DiskFullError } from '../errors.ts'

/** Bytes free for this user on the filesystem holding `path` (its nearest existing ancestor); undefined where statfs fails. */
export function freeBytes (path: string): { bytes: number, on: string } | undefined {
  let p = path
  while (true) {
    try {
      const s = statfsSync(p)
      return { bytes: Number(s.bavail) * Number(s.bsize), on: p }
    } catch (err) {
      const parent = dirname(p)
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === p) return undefined
      p = parent
    }
  }
}

/** Throws DiskFullError when `neededBytes` more do not fit where `path` is. */
export function ensureSpace (path: string, neededBytes: number): void {
  if (neededBytes <= 0) return
  const free = freeBytes(path)
  if (free != null && free.bytes < neededBytes) throw new DiskFullError(path, neededBytes, free.bytes)
}
