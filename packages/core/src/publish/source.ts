/**
 * Turns a file or folder on disk into importer candidates the way `ipfs add -r`
 * sees it: entries in byte order of their names, hidden names (leading dot)
 * skipped below the root, empty folders kept, symlinks stored as symlinks.
 * File content is streamed, never buffered whole.
 */
import { lstat, open, readdir, readlink, stat } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { AbortedError, InvalidArgumentError } from '../errors.ts'

export type SourceEntry =
  | { type: 'file', path: string, absPath: string, size: number }
  | { type: 'dir', path: string, absPath: string }
  | { type: 'symlink', path: string, absPath: string, target: string }

export interface ScannedSource {
  /** Name of the root entry (the basename of the path added). */
  rootName: string
  isDirectory: boolean
  /** Parents before children, siblings in byte order of their names. */
  entries: SourceEntry[]
  totalBytes: number
  fileCount: number
}

export async function scanSource (input: string): Promise<ScannedSource> {
  const absRoot = resolve(input)
  const st = await stat(absRoot).catch((err: NodeJS.ErrnoException) => {
    throw new InvalidArgumentError(err.code === 'ENOENT' ? `no such file or folder: ${input}` : `cannot read ${input}: ${err.message}`)
  })
  const rootName = basename(absRoot)
  if (st.isFile()) {
    return { rootName, isDirectory: false, entries: [{ type: 'file', path: rootName, absPath: absRoot, size: st.size }], totalBytes: st.size, fileCount: 1 }
  }
  if (!st.isDirectory()) throw new InvalidArgumentError(`${input} is neither a file nor a folder`)
  const entries: SourceEntry[] = [{ type: 'dir', path: rootName, absPath: absRoot }]
  let totalBytes = 0
  let fileCount = 0
  const walk = async (absDir: string, relDir: string): Promise<void> => {
    const names = (await readdir(absDir)).filter(n => !n.startsWith('.')).sort(compareBytes)
    for (const name of names) {
      const abs = join(absDir, name)
      const rel = `${relDir}/${name}`
      const l = await lstat(abs)
      if (l.isSymbolicLink()) {
        entries.push({ type: 'symlink', path: rel, absPath: abs, target: await readlink(abs) })
      } else if (l.isDirectory()) {
        entries.push({ type: 'dir', path: rel, absPath: abs })
        await walk(abs, rel)
      } else if (l.isFile()) {
        entries.push({ type: 'file', path: rel, absPath: abs, size: l.size })
        totalBytes += l.size
        fileCount++
      }
      // sockets, fifos and devices are skipped, as kubo does
    }
  }
  await walk(absRoot, rootName)
  return { rootName, isDirectory: true, entries, totalBytes, fileCount }
}

/** dag-pb orders directory links by the bytes of their names. */
export function compareBytes (a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

/**
 * Reads a file in pieces of exactly `pieceSize` bytes (the last one shorter),
 * one read ahead so the disk works while the caller hashes. Handing the chunker
 * whole multiples of its chunk size lets it pass chunks on as views instead of
 * copies. With a `pool`, pieces whose bytes were all released are reused, which
 * keeps the garbage collector out of the way at GB/s.
 */
export async function * readFileChunks (absPath: string, onBytes?: (n: number) => void, signal?: AbortSignal, pieceSize = 4 * 1024 * 1024, pool?: PiecePool): AsyncGenerator<Uint8Array> {
  const fh = await open(absPath, 'r')
  const readPiece = async (position: number): Promise<{ buf: Buffer, filled: number }> => {
    const buf = pool?.take(pieceSize) ?? Buffer.allocUnsafeSlow(pieceSize)
    let filled = 0
    while (filled < pieceSize) {
      const { bytesRead } = await fh.read(buf, filled, pieceSize - filled, position + filled)
      if (bytesRead === 0) break
      filled += bytesRead
    }
    return { buf, filled }
  }
  // Several reads ahead (about 32 MiB): the importer pulls chunks in bursts and
  // then hashes a burst, so a single read ahead would leave the disk idle.
  const depth = Math.max(2, Math.ceil(32 * 1024 * 1024 / pieceSize))
  const ahead: Array<Promise<{ buf: Buffer, filled: number }>> = []
  let nextPosition = 0
  let ended = false
  const schedule = (): void => {
    while (!ended && ahead.length < depth) {
      const p = readPiece(nextPosition)
      p.catch(() => {}) // surfaced when awaited; never unhandled if we stop early
      ahead.push(p)
      nextPosition += pieceSize
    }
  }
  try {
    schedule()
    while (ahead.length > 0) {
      if (signal?.aborted === true) throw new AbortedError('reading ' + absPath)
      const { buf, filled } = await (ahead.shift() as Promise<{ buf: Buffer, filled: number }>)
      if (filled < pieceSize) ended = true
      if (filled === 0) return
      schedule()
      onBytes?.(filled)
      pool?.track(buf, filled)
      yield filled === pieceSize ? buf : buf.subarray(0, filled)
      if (filled < pieceSize) return
    }
  } finally {
    ended = true
    for (const p of ahead) await p.catch(() => {})
    await fh.close()
  }
}

/**
 * Reusable read buffers. A piece goes back to the pool once views covering
 * all its bytes have been released (`releaseView`), i.e. every chunk cut from
 * it has been hashed and is referenced by nothing. Views of pieces the pool
 * does not track (e.g. a chunk the chunker had to copy) are ignored, so a
 * piece is only ever reused when that is provably safe.
 */
export class PiecePool {
  private readonly free: Buffer[] = []
  private readonly maxFree: number

  constructor (maxFree = 12) {
    this.maxFree = maxFree
  }

  take (size: number): Buffer {
    const i = this.free.findIndex(b => b.byteLength === size)
    if (i >= 0) return this.free.splice(i, 1)[0] as Buffer
    return Buffer.allocUnsafeSlow(size)
  }

  track (buf: Buffer, filled: number): void {
    outstanding.set(buf.buffer, { buf, remaining: filled, pool: this })
  }

  giveBack (buf: Buffer): void {
    if (this.free.length < this.maxFree) this.free.push(buf)
  }
}

const outstanding = new Map<ArrayBufferLike, { buf: Buffer, remaining: number, pool: PiecePool }>()

/** Declares a chunk's bytes no longer needed by anyone. */
export function releaseView (view: Uint8Array): void {
  const e = outstanding.get(view.buffer)
  if (e == null) return
  e.remaining -= view.byteLength
  if (e.remaining <= 0) {
    outstanding.delete(view.buffer)
    e.pool.giveBack(e.buf)
  }
}
