/**
 * What registered entries take on disk: each entry's folder (content and
 * `.citrate/` bookkeeping) and its content where that lives elsewhere (`add`
 * of a folder outside the home). Files are counted once by inode, so ids
 * that share bytes through hard links (models/reuse.ts) are not counted
 * twice in the total. Sizes are file lengths (what SIZE shows, on every
 * platform), not allocated blocks.
 */
import { lstat, readdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { CitratePaths } from '../config/paths.ts'
import type { ModelEntry } from '../registry/schema.ts'
import { entryDir } from './model-files.ts'

export interface DiskUsage {
  /** Bytes each entry's files take, by id (its files shared with an earlier entry counted there). */
  byId: Record<string, number>
  /** Bytes all entries take together, each file once. */
  totalBytes: number
}

export async function diskUsage (paths: CitratePaths, entries: readonly ModelEntry[]): Promise<DiskUsage> {
  const seen = new Set<string>()
  const byId: Record<string, number> = {}
  let totalBytes = 0
  for (const e of entries) {
    let bytes = 0
    const roots = new Set([resolve(entryDir(paths, e)), resolve(e.path)])
    for (const root of roots) bytes += await treeBytes(root, seen)
    byId[e.id] = bytes
    totalBytes += bytes
  }
  return { byId, totalBytes }
}

/** Bytes of the files under `path` (a file or folder) not yet in `seen`; symlinks are not followed. */
async function treeBytes (path: string, seen: Set<string>): Promise<number> {
  let st
  try {
    st = await lstat(path)
  } catch {
    return 0
  }
  const key = `${st.dev}:${st.ino}`
  if (seen.has(key)) return 0
  seen.add(key)
  if (st.isDirectory()) {
    let sum = 0
    for (const name of await readdir(path).catch(() => [] as string[])) sum += await treeBytes(join(path, name), seen)
    return sum
  }
  return st.isFile() ? st.size : 0
}
