/**
 * Extracts a kubo Windows release (`kubo_vX_windows-amd64.zip`, entry
 * `kubo/ipfs.exe`) under the same rules as the .tar.gz: every entry is
 * checked from the central directory before a byte is written, and the whole
 * archive is refused if one entry is absolute, climbs out with `..`, is a
 * link, device or other special file, is encrypted, or breaks the size bounds.
 * yauzl does not check CRC-32s, so every entry's data is checked here as it
 * is written, along with its length.
 */
import { createWriteStream } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { Transform, type TransformCallback } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { crc32 } from 'node:zlib'
import type { Entry, ZipFile } from 'yauzl'
import { InstallError } from '../errors.ts'
import { ARCHIVE_LIMITS, unsafeEntryPath, type ArchiveLimits } from './entry-rules.ts'

/** The host byte of `versionMadeBy` for which the high 16 bits of the external attributes are a Unix `st_mode`. */
const HOST_UNIX = 3
const S_IFMT = 0o170000
const S_IFREG = 0o100000
const S_IFDIR = 0o040000
/** MS-DOS attribute bits (the low byte of the external attributes). */
const DOS_DIRECTORY = 0x10
const DOS_REPARSE_POINT = 0x400

interface PlannedEntry { entry: Entry, name: string, directory: boolean }

export async function safeExtractZip (archivePath: string, dir: string, limits: ArchiveLimits = ARCHIVE_LIMITS): Promise<void> {
  // Messages name the release file, not the staging folder it sat in (gone by the time anyone reads them).
  const archive = basename(archivePath)
  const yauzl = await import('yauzl') // loaded on first use: only Windows installs need it
  let zip: ZipFile
  try {
    // strictFileNames: a backslash in a name is an error, not silently read as a separator.
    zip = await yauzl.openPromise(archivePath, { autoClose: false, strictFileNames: true, validateEntrySizes: true })
  } catch (err) {
    throw new InstallError('INSTALL_ARCHIVE_INVALID', `${archive} is not a readable .zip: ${(err as Error).message}; nothing was installed`, { cause: err })
  }
  try {
    const planned = await plan(zip, archive, limits)
    await mkdir(dir, { recursive: true })
    for (const p of planned) {
      const target = join(dir, ...p.name.split('/'))
      if (p.directory) {
        await mkdir(target, { recursive: true })
        continue
      }
      await mkdir(dirname(target), { recursive: true })
      await extractEntry(zip, p, target, archive)
    }
  } finally {
    zip.close()
  }
}

/** Reads the whole central directory and refuses the archive if any entry breaks a rule; writes nothing. */
async function plan (zip: ZipFile, archive: string, limits: ArchiveLimits): Promise<PlannedEntry[]> {
  if (zip.entryCount > limits.entries) {
    throw new InstallError('INSTALL_ARCHIVE_INVALID', `${archive} lists ${zip.entryCount} entries (at most ${limits.entries}); nothing was installed`)
  }
  const refused: string[] = []
  const planned: PlannedEntry[] = []
  // Lower-cased names: a second entry that differs only in case would overwrite the first on Windows and macOS.
  const seen = new Map<string, 'file' | 'directory'>()
  let total = 0
  try {
    for await (const entry of zip.eachEntry()) {
      const directory = entry.fileName.endsWith('/')
      const name = directory ? entry.fileName.slice(0, -1) : entry.fileName
      const why = unsafeEntryPath(name) ?? unsafeEntryKind(entry, directory) ?? sizeProblem(entry, directory, limits)
      if (why != null) {
        refused.push(`${entry.fileName} (${why})`)
        continue
      }
      const key = name.toLowerCase()
      const kind = directory ? 'directory' : 'file'
      const before = seen.get(key)
      if (before != null && (before === 'file' || kind === 'file')) {
        refused.push(`${entry.fileName} (a second entry of the same name)`)
        continue
      }
      seen.set(key, kind)
      total += entry.uncompressedSize
      planned.push({ entry, name, directory })
    }
  } catch (err) {
    // yauzl refuses an unsafe name itself (absolute path, "..", a backslash) before it becomes an entry.
    const message = (err as Error).message
    if (/^(absolute path|invalid relative path|invalid characters in fileName)/.test(message)) {
      throw new InstallError('INSTALL_ARCHIVE_INVALID', `${archive} holds entries that could escape the install folder: ${message}; nothing was installed`, { cause: err })
    }
    throw new InstallError('INSTALL_ARCHIVE_INVALID', `${archive} is not a readable .zip: ${message}; nothing was installed`, { cause: err })
  }
  if (refused.length > 0) {
    throw new InstallError('INSTALL_ARCHIVE_INVALID', `${archive} holds entries a kubo release never has: ${refused.slice(0, 3).join(', ')}; nothing was installed`)
  }
  if (total > limits.totalBytes) {
    throw new InstallError('INSTALL_ARCHIVE_INVALID', `${archive} would unpack to ${total} bytes (more than ${limits.totalBytes}); nothing was installed`)
  }
  return planned
}

/** Links, devices, FIFOs, sockets, reparse points and encrypted or oddly compressed entries: none belongs in a release. */
function unsafeEntryKind (entry: Entry, directory: boolean): string | undefined {
  if (entry.isEncrypted()) return 'encrypted'
  if (!entry.canDecodeFileData()) return `compression method ${entry.compressionMethod}`
  const attrs = entry.externalFileAttributes >>> 0
  if ((attrs & DOS_REPARSE_POINT) !== 0) return 'a reparse point (a Windows link)'
  if (entry.versionMadeBy >>> 8 === HOST_UNIX) {
    const type = (attrs >>> 16) & S_IFMT
    // 0: no Unix mode recorded; the name says file or directory.
    if (type !== 0 && type !== (directory ? S_IFDIR : S_IFREG)) return type === 0o120000 ? 'a symbolic link' : `file type ${type.toString(8)}`
  }
  if (!directory && (attrs & DOS_DIRECTORY) !== 0) return 'a directory without a trailing slash'
  return undefined
}

function sizeProblem (entry: Entry, directory: boolean, limits: ArchiveLimits): string | undefined {
  if (directory && entry.uncompressedSize > 0) return 'a directory with contents'
  if (entry.uncompressedSize > limits.entryBytes) return `${entry.uncompressedSize} bytes, more than ${limits.entryBytes}`
  return undefined
}

async function extractEntry (zip: ZipFile, p: PlannedEntry, target: string, archive: string): Promise<void> {
  const check = new EntryCheck(p.entry)
  try {
    const data = await zip.openReadStreamPromise(p.entry)
    // 'wx': never through a file that already exists (the staging folder is fresh, so one would be an attack).
    await pipeline(data, check, createWriteStream(target, { flags: 'wx', mode: 0o644 }))
  } catch (err) {
    throw new InstallError('INSTALL_ARCHIVE_INVALID', `could not extract ${p.entry.fileName} from ${archive}: ${(err as Error).message}; nothing was installed`, { cause: err })
  }
}

/** Counts and CRC-32s an entry's bytes as they pass; fails the stream past the declared size or on a CRC mismatch at the end. */
class EntryCheck extends Transform {
  private crc = 0
  private bytes = 0
  private readonly entry: Entry
  constructor (entry: Entry) {
    super()
    this.entry = entry
  }

  override _transform (chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length
    if (this.bytes > this.entry.uncompressedSize) {
      cb(new Error(`more than the ${this.entry.uncompressedSize} bytes its header declares`))
      return
    }
    this.crc = crc32(chunk, this.crc)
    cb(null, chunk)
  }

  override _flush (cb: TransformCallback): void {
    if (this.bytes !== this.entry.uncompressedSize) {
      cb(new Error(`${this.bytes} bytes, not the ${this.entry.uncompressedSize} its header declares`))
      return
    }
    if (this.crc >>> 0 !== this.entry.crc32 >>> 0) {
      cb(new Error(`CRC-32 ${(this.crc >>> 0).toString(16)} does not match the recorded ${(this.entry.crc32 >>> 0).toString(16)} (the archive is corrupt)`))
      return
    }
    cb()
  }
}
