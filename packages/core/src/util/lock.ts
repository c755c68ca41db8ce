/**
 * A cross-process lock (proper-lockfile: an mkdir'd lock folder whose mtime
 * its holder refreshes) whose stale takeover has one winner.
 *
 * Hand-written around proper-lockfile rather than left to its `stale`
 * option: proper-lockfile 4.1.2 reclaims a stale lock with rmdir + mkdir, so
 * two waiters that find the same dead holder's lock can both remove it and
 * both acquire — one after the other has already re-created it
 * (moxystudio/node-proper-lockfile#121, open). Our registry's crash test
 * lost a committed entry that way in 2 of 4 clean-clone CI runs (2026-12-02) once both
 * writers of a round started within milliseconds of each other.
 *
 * Here proper-lockfile never reclaims (its `stale` is set beyond reach; its
 * holder still refreshes the mtime every `staleMs / 2`); a waiter that finds
 * the folder older than `staleMs` claims it by renaming it to a name of its
 * own — a rename has one winner — and keeps it only if it is the very folder
 * it judged stale (same inode). A fresh lock moved by a late claimer is put
 * back at once; should someone have locked in that instant, the moved
 * holder's next refresh fails and it reports its lock compromised (the
 * registry then refuses to write: no lost update).
 *
 * The holder also writes its pid and host beside the lock folder
 * (`<lock>.owner`, with the folder's inode, so an older holder's file is never
 * read as the current one's): a waiter on the same host whose holder's pid is
 * gone (SIGKILL, a crash) takes the lock over at once instead of after
 * `staleMs` of silence. A reused pid only means the slower path (the mtime)
 * decides. Not inside the folder: proper-lockfile reads any change of the
 * folder's mtime as its lock being compromised.
 */
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import lockfile from 'proper-lockfile'
import { sleep } from './signals.ts'

/** Far beyond any wait: proper-lockfile's own stale reclaim never runs. */
const NEVER_STALE_MS = 24 * 3600 * 1000

export interface SafeLockOptions {
  /** The lock folder (proper-lockfile's `lockfilePath`). */
  lockPath: string
  /** A lock not refreshed for this long is taken over (its holder died). */
  staleMs: number
  /** How long to keep trying before failing with the last ELOCKED (default: as long as it takes). */
  waitMs?: number
  /** Pause between tries, ms (default 25–75, at random). */
  retryMs?: number
  /** Stops the wait (the sleep between tries rejects with its abort). */
  signal?: AbortSignal
  onCompromised: (err: Error) => void
  /** Called once, when the first try finds the lock held by someone else (to tell the user why nothing happens). */
  onWait?: () => void
}


/**
 * One lock folder, told apart from a later one at the same path. The inode alone does not do it:
 * ext4 gives a folder made right after another was removed the same inode (measured here: rmdir +
 * mkdir → the same number), so a waiter could judge a new holder's fresh lock by the dead holder's
 * owner file, or keep a fresh lock it moved as "the stale one" — both take a live lock away, and the
 * registry's crash test lost a committed entry that way (1 run in ~10 under load, 2026-12-03). The
 * birth time (statx) tells them apart; where the filesystem has none it reads 0 and the inode decides.
 */
interface FolderId { ino: number, dev: number, birthtimeMs: number }
const sameFolder = (a: FolderId, b: FolderId): boolean => a.ino === b.ino && a.dev === b.dev && a.birthtimeMs === b.birthtimeMs

/** The holder of one lock folder, written beside it. */
interface Owner extends FolderId { pid: number, host: string }

export async function lockSafely (file: string, opts: SafeLockOptions): Promise<() => Promise<void>> {
  const deadline = Date.now() + (opts.waitMs ?? Infinity)
  let waiting = false
  while (true) {
    try {
      const release = await lockfile.lock(file, {
        realpath: false,
        lockfilePath: opts.lockPath,
        stale: NEVER_STALE_MS,
        update: Math.max(1000, Math.floor(opts.staleMs / 2)),
        retries: 0,
        onCompromised: opts.onCompromised
      })
      // Best effort: without it, waiters fall back to the mtime.
      const ownerPath = `${opts.lockPath}.owner`
      const held = await stat(opts.lockPath).catch(() => undefined)
      const me: Owner | undefined = held == null ? undefined : { pid: process.pid, host: hostname(), ino: held.ino, dev: held.dev, birthtimeMs: held.birthtimeMs }
      if (me != null) await writeOwner(ownerPath, me).catch(() => {})
      return async () => {
        // Ours only (a taker-over may have written its own since).
        const owner = await readOwner(ownerPath)
        if (me != null && owner != null && sameFolder(owner, me)) await rm(ownerPath, { force: true }).catch(() => {})
        await release()
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err
      if (await reclaimIfStale(opts.lockPath, opts.staleMs)) continue
      if (!waiting) { waiting = true; opts.onWait?.() }
      if (Date.now() >= deadline) throw err
      await sleep(opts.retryMs ?? 25 + Math.random() * 50, opts.signal)
    }
  }
}

/** Takes a stale lock folder out of the way, only the one judged stale; true when it did. */
export async function reclaimIfStale (lockPath: string, staleMs: number): Promise<boolean> {
  const seen = await stat(lockPath).catch(() => undefined)
  if (seen == null) return false
  if (Date.now() - seen.mtimeMs < staleMs && !await holderIsGone(lockPath, seen)) return false
  const claimed = `${lockPath}.reclaim-${process.pid}-${Math.random().toString(36).slice(2)}`
  try {
    await rename(lockPath, claimed)
  } catch {
    return false // someone else claimed it first (or it was released)
  }
  const moved = await stat(claimed).catch(() => undefined)
  if (moved != null && sameFolder(seen, moved)) {
    await rm(claimed, { recursive: true, force: true })
    return true
  }
  // A fresh lock, made after we judged the old one stale: give it back.
  await rename(claimed, lockPath).catch(async () => { await rm(claimed, { recursive: true, force: true }) })
  return false
}

/** True when the owner file of the lock folder `seen` names a process on this host that no longer exists. */
async function holderIsGone (lockPath: string, seen: FolderId): Promise<boolean> {
  const owner = await readOwner(`${lockPath}.owner`)
  // No owner file, or one of an earlier holder of another folder: only the mtime can tell.
  if (owner == null || !sameFolder(seen, owner)) return false
  if (owner.host !== hostname() || owner.pid === process.pid) return false
  try {
    process.kill(owner.pid, 0)
    return false
  } catch (err) {
    // EPERM: it exists, as another user's process.
    return (err as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

/**
 * Written in place, not through a temp file and a rename: a holder killed
 * mid-write must leave no stray temp file beside the registry, and a torn
 * owner file only fails to parse (the mtime then decides). Not fsynced: after
 * a power loss no pid in it is alive anyway.
 */
async function writeOwner (path: string, owner: Owner): Promise<void> {
  await writeFile(path, JSON.stringify(owner))
}

async function readOwner (path: string): Promise<Owner | undefined> {
  try {
    const o = JSON.parse(await readFile(path, 'utf8')) as Partial<Owner>
    return typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.ino === 'number' && typeof o.dev === 'number' && typeof o.birthtimeMs === 'number' ? o as Owner : undefined
  } catch {
    return undefined
  }
}
