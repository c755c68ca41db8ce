import { open } from 'node:fs/promises'

/**
 * The last `lines` lines of a file (reading at most its last 256 KiB), or '' if it is missing;
 * `toOffset` stops at that byte, so a follower starting there neither misses nor repeats a line.
 */
export async function tailFile (path: string, lines = 20, fromOffset = 0, toOffset = Infinity): Promise<string> {
  let fh
  try {
    fh = await open(path, 'r')
  } catch {
    return ''
  }
  try {
    const size = Math.min((await fh.stat()).size, toOffset)
    const start = Math.max(fromOffset, size - 256 * 1024, 0)
    const buf = Buffer.alloc(size - start)
    await fh.read(buf, 0, buf.length, start)
    const all = buf.toString('utf8').split(/\r?\n/)
    while (all.length > 0 && all[all.length - 1] === '') all.pop()
    return all.slice(-lines).join('\n')
  } finally {
    await fh.close()
  }
}
