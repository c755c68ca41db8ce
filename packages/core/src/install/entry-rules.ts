/**
 * The rules every release archive's entries must pass before anything is
 * written, the same for .tar.gz and .zip: a kubo release holds a handful of
 * plain files under `kubo/`, so anything else is refused rather than handled.
 */
import { isAbsolute, normalize, sep } from 'node:path'

/**
 * Size bounds. kubo 0.43's binary is 89 MB (linux-amd64, built here) and its
 * release archive a handful of entries; the bounds leave ten times that room while
 * keeping a zip or tar bomb from filling the disk.
 */
export interface ArchiveLimits {
  /** Largest single entry, uncompressed. */
  entryBytes: number
  /** All entries together, uncompressed. */
  totalBytes: number
  entries: number
}

export const ARCHIVE_LIMITS: Readonly<ArchiveLimits> = {
  entryBytes: 1024 * 1024 * 1024,
  totalBytes: 2 * 1024 * 1024 * 1024,
  entries: 1000
}

/**
 * Why an entry's path could land outside the extraction folder or be
 * misread on some platform, or undefined when it is a plain relative path.
 * Checked on every OS, since an archive made for Windows is also read here.
 */
export function unsafeEntryPath (path: string): string | undefined {
  if (path === '') return 'an empty name'
  if (isAbsolute(path) || path.startsWith('/') || path.startsWith('\\') || /^[a-zA-Z]:/.test(path)) return 'an absolute path'
  const parts = path.split(/[\\/]/)
  if (parts.includes('..')) return 'a ".." component'
  const n = normalize(path)
  if (n === '..' || n.startsWith(`..${sep}`)) return 'a ".." component'
  // A NUL or control character, or `:` (a drive or an NTFS alternate data stream on Windows), `<>"|?*` (invalid there).
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f:<>"|?*]/.test(path)) return 'a character that is not allowed in a file name'
  return undefined
}
