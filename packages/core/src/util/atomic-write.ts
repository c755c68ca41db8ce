/**
 * Crash-safe file replacement: write to a temp file beside the target, fsync it,
 * rename over the target, then fsync the directory so the rename itself is durable.
 * A crash at any point leaves either the old file or the new one, never a mix.
 */
import { open, rename, rm, mkdir } from 'node:fs/promises'
import { dirname, basename, join } from 'node:path'
import { randomBytes } from 'node:crypto'

export interface AtomicWriteOptions {
  mode?: number
}

export async function writeFileAtomic (path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const dir = dirname(path)
  await mkdir(dir, { recursive: true })
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  try {
    const fh = await open(tmp, 'w', options.mode ?? 0o644)
    try {
      await fh.writeFile(data)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
  await fsyncDir(dir)
}

/** Makes a rename durable. Windows cannot open directories; there NTFS journaling covers it. */
export async function fsyncDir (dir: string): Promise<void> {
  if (process.platform === 'win32') return
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}
