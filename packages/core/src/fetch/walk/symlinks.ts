/**
 * UnixFS symlinks inside a pulled folder (what `ipfs add -r` of a Hugging
 * Face cache holds). Each is decided by ipld/symlink.ts: one whose target
 * stays inside the folder is written as the same relative link once the walk
 * has written everything; one pointing outside is not followed, not written,
 * and reported by name. Where links cannot be made (Windows without the
 * privilege, filesystems without symlinks: EPERM and friends, or mode
 * 'copy') the link becomes a copy of its target inside the folder, which
 * verify-at-rest proves against the target's CID; a target that is missing
 * or that holds the link itself (a copy would never end) is reported instead.
 *
 * Resume: links and copies are remade from scratch each run (they cost no
 * fetch), so they need no journal lines.
 */
import { cp, lstat, readdir, rm, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { classifySymlink } from '../../ipld/symlink.ts'

/** How a pull writes the symlinks of a folder: as links (copies where that fails), or always as copies. */
export type SymlinkMode = 'link' | 'copy'

/** A symlink of the content that was not written, with why. */
export interface SkippedSymlink {
  /** Its path inside the content (`/`-separated). */
  path: string
  target: string
  reason: string
}

interface PendingLink { path: string, rel: string, target: string, resolved: string[] }

/** Error codes that mean "this filesystem or user cannot make symlinks here", not "something is wrong". */
const NO_SYMLINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'])

export class PendingSymlinks {
  readonly skipped: SkippedSymlink[] = []
  private readonly pending: PendingLink[] = []
  private readonly mode: SymlinkMode

  constructor (mode: SymlinkMode = process.platform === 'win32' ? 'copy' : 'link') {
    this.mode = mode
  }

  /** A symlink met at `rel` (written at `path` later, or skipped now). */
  add (path: string, rel: string, target: string): void {
    const v = classifySymlink(rel, target)
    if (v.inside) this.pending.push({ path, rel, target, resolved: v.resolved })
    else this.skipped.push({ path: rel, target, reason: v.reason })
  }

  /**
   * Writes every pending link under `root` (the content folder). Returns the
   * regular files made as copies (to be synced) and how many links were written.
   */
  async materialize (root: string): Promise<{ copiedFiles: string[], links: number }> {
    let links = 0
    const copies: PendingLink[] = []
    for (const l of this.pending) {
      await rm(l.path, { recursive: true, force: true })
      if (this.mode === 'copy') { copies.push(l); continue }
      try {
        await symlink(l.target, l.path)
        links++
      } catch (err) {
        if (!NO_SYMLINKS.has((err as NodeJS.ErrnoException).code ?? '')) throw err
        copies.push(l)
      }
    }
    const copiedFiles: string[] = []
    // A copy is made once its target is complete: after the copies of links to it or inside it. Rounds until none can be made.
    let left = copies
    while (left.length > 0) {
      const next: PendingLink[] = []
      for (const l of left) {
        if (isUnder(l.rel, l.resolved)) { this.skipped.push({ path: l.rel, target: l.target, reason: 'it points to a folder that holds it, which cannot be copied' }); continue }
        const from = join(root, ...l.resolved)
        const waits = left.some(o => o !== l && isUnder(o.rel, l.resolved))
        if (waits || await lstat(from).catch(() => undefined) == null) { next.push(l); continue }
        // dereference: a link written inside the target is copied as what it points to (inside the folder by
        // construction); copied verbatim, a relative link would point somewhere else from its new place.
        await cp(from, l.path, { recursive: true, dereference: true, errorOnExist: true, force: false })
        copiedFiles.push(...await regularFiles(l.path))
      }
      if (next.length === left.length) {
        for (const l of next) this.skipped.push({ path: l.rel, target: l.target, reason: 'its target is missing from the folder (or depends on this link), so no copy could be made' })
        break
      }
      left = next
    }
    return { copiedFiles, links }
  }
}

/** True when the entry at `rel` is `prefix` or inside it. */
function isUnder (rel: string, prefix: string[]): boolean {
  const parts = rel.split('/')
  return prefix.length <= parts.length && prefix.every((p, i) => parts[i] === p)
}

async function regularFiles (p: string): Promise<string[]> {
  const st = await lstat(p)
  if (st.isFile()) return [p]
  if (!st.isDirectory()) return []
  const out: string[] = []
  for (const name of await readdir(p)) out.push(...await regularFiles(join(p, name)))
  return out
}
