/**
 * Identical files inside a folder (entries naming one file CID) are fetched
 * and written once: every later entry becomes a hard link to the first
 * within the work folder, made once the walk has written everything. A link
 * costs no bytes, no writes and no fsync of its own (the first file's data
 * is synced once), where writing 1000 copies of a small file costs 1000
 * creations and 1000 fdatasyncs.
 *
 * Hard links, not copies: the content is a verified, read-only model folder,
 * and `models verify` re-proves every name, so a shared inode hides nothing.
 * Where the filesystem refuses links, the file is cloned instead
 * (`COPYFILE_FICLONE`: a reflink where supported, else a kernel copy) and
 * synced like any written file.
 *
 * Resume: a link is remade from scratch each run (it is free), so it needs
 * no journal lines; the first file resumes from its own.
 *
 * Memory: one short record per duplicate entry, like the pending entries of a folder.
 */
import { copyFile, link, rm, stat } from 'node:fs/promises'
import { constants as fsConstants } from 'node:fs'

export interface DuplicateFile { from: string, to: string, size: number }

export class DuplicateFiles {
  private readonly firstOf = new Map<string, { path: string, size: number }>()
  private readonly pending: DuplicateFile[] = []

  /** The size of file `cid` if it was met already (then `path` is queued to become a copy of it); nothing is read. */
  again (cid: string, path: string): number | undefined {
    const first = this.firstOf.get(cid)
    if (first == null || first.path === path) return undefined
    this.pending.push({ from: first.path, to: path, size: first.size })
    return first.size
  }

  /** True when `path` is the first holder of file `cid`; false: it is queued to become a copy of the first. */
  claim (cid: string, path: string, size: number): boolean {
    if (this.again(cid, path) !== undefined) return false
    this.firstOf.set(cid, { path, size })
    return true
  }

  /** Makes every queued copy (after the walk wrote the firsts): the paths copied, not linked (they need syncing), and how many were linked. */
  async materialize (onFile: (d: DuplicateFile) => void): Promise<{ copied: string[], linked: number }> {
    const copied: string[] = []
    let linked = 0
    for (const d of this.pending.splice(0)) {
      const [a, b] = await Promise.all([stat(d.from), stat(d.to).catch(() => undefined)])
      if (b == null || a.ino !== b.ino || a.dev !== b.dev) {
        await rm(d.to, { force: true })
        try {
          await link(d.from, d.to)
          linked++
        } catch {
          await copyFile(d.from, d.to, fsConstants.COPYFILE_FICLONE)
          copied.push(d.to)
        }
      } else {
        linked++
      }
      onFile(d)
    }
    return { copied, linked }
  }
}
