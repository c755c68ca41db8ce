/**
 * `tail -F` as an async iterator: the text appended to a file, as it is
 * written, until the signal aborts. It keeps following across the two things
 * a log does: rotation (the path now names a new file: the old one is read to
 * its end, then the new one from its start) and truncation (read again from
 * the start). Polled, as GNU tail does with --follow=name: fs.watch misses
 * renames on some file systems and fires per write on others.
 */
import { open, stat, type FileHandle } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { StringDecoder } from 'node:string_decoder'

export interface FollowFileOptions {
  signal?: AbortSignal
  /** Byte to start at; default: the file's end now (its start if it does not exist yet). */
  from?: number
  /** How often to look for more; default 250 ms (a log line shows within a quarter second). */
  pollMs?: number
}

const CHUNK = 64 * 1024

/** Yields text as it is appended to `path` (UTF-8, never a split character); ends, without an error, when `signal` aborts. */
export async function * followFile (path: string, opts: FollowFileOptions = {}): AsyncGenerator<string, void, undefined> {
  const { signal } = opts
  const pollMs = opts.pollMs ?? 250
  let pos = opts.from
  let fh: FileHandle | undefined
  let identity = ''
  let decoder = new StringDecoder('utf8')
  const buf = Buffer.alloc(CHUNK)
  try {
    while (signal?.aborted !== true) {
      if (fh === undefined) {
        try {
          fh = await open(path, 'r')
          const st = await fh.stat()
          identity = `${st.dev}:${st.ino}`
          pos ??= st.size
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
          pos ??= 0
          if (!await wait(pollMs, signal)) return
          continue
        }
      }
      const { size } = await fh.stat()
      if (size < (pos ?? 0)) pos = 0 // truncated
      if (size > (pos ?? 0)) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, size - (pos ?? 0)), pos)
        pos = (pos ?? 0) + bytesRead
        const text = decoder.write(buf.subarray(0, bytesRead))
        if (text !== '') yield text
        continue
      }
      // At the end of the file we hold: has the path moved on to another file (rotated)?
      const now = await stat(path).catch(() => undefined)
      if (now !== undefined && `${now.dev}:${now.ino}` !== identity) {
        const rest = decoder.end()
        if (rest !== '') yield rest
        decoder = new StringDecoder('utf8')
        await fh.close()
        fh = undefined
        pos = 0
        continue
      }
      if (!await wait(pollMs, signal)) return
    }
  } finally {
    await fh?.close()
  }
}

/** Sleeps; false when the signal aborted meanwhile. */
async function wait (ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal })
    return true
  } catch {
    return false
  }
}
