/** Small filesystem questions asked in several layers. */
import { lstat } from 'node:fs/promises'

/** True when something (a file, folder or link, not followed) is at `path`. */
export async function pathExists (path: string): Promise<boolean> {
  try { await lstat(path); return true } catch { return false }
}
