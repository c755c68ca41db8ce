/**
 * Which UnixFS symlinks a pull may write. `ipfs add -r` stores symlinks as
 * they are (a Hugging Face cache's `snapshots/<rev>/config.json ->
 * ../../blobs/<sha>`), and a folder pulled from a stranger must never get a
 * link that leads out of it. A link is written only when its target, read
 * from the link's own folder, stays inside the content root:
 *
 * - relative, with no NUL, control character or backslash;
 * - `..` only as a leading run (then names only, `.` and empty parts
 *   ignored), so the way up goes through real folders of the content — a
 *   `..` after a name could climb out through another symlink
 *   (`a/link/../..` where `link -> ..`) where a textual check says inside;
 * - no more `..` than the link is deep, and portable names after them.
 *
 * Pull and verify-at-rest both decide with this one function, so what one
 * writes (or leaves out) the other accepts.
 */
import { UnsafeNameError } from '../errors.ts'
import { checkEntryName } from './unixfs.ts'

export type SymlinkVerdict =
  /** Written as a relative link; `resolved` is the target's path from the content root (entry names). */
  | { inside: true, resolved: string[] }
  /** Not followed, not written, reported: why, in words. */
  | { inside: false, reason: string }

/** Decides the symlink at `rel` (its path inside the content, `/`-separated) pointing at `target`. */
export function classifySymlink (rel: string, target: string): SymlinkVerdict {
  if (target === '') return { inside: false, reason: 'its target is empty' }
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(target)) return { inside: false, reason: 'its target contains a control character' }
  // What decoding left of bytes that were not UTF-8: the link on disk would not be the one stored.
  if (target.includes('\uFFFD')) return { inside: false, reason: 'its target is not valid UTF-8' }
  if (target.startsWith('/')) return { inside: false, reason: 'it points to an absolute path, outside the folder' }
  if (/^[A-Za-z]:/.test(target) || target.includes('\\')) return { inside: false, reason: 'it points to a Windows path, outside the folder' }
  const parts = target.split('/').filter(p => p !== '' && p !== '.')
  let up = 0
  while (parts[up] === '..') up++
  const names = parts.slice(up)
  if (names.includes('..')) return { inside: false, reason: 'its target goes back up ("..") after going down, which could lead outside the folder' }
  const parent = rel.split('/').slice(0, -1)
  if (up > parent.length) return { inside: false, reason: 'it points outside the folder ("..")' }
  for (const n of names) {
    try {
      checkEntryName(n)
    } catch (err) {
      if (err instanceof UnsafeNameError) return { inside: false, reason: `its target has a name that is not portable (${err.reason})` }
      throw err
    }
  }
  return { inside: true, resolved: [...parent.slice(0, parent.length - up), ...names] }
}
