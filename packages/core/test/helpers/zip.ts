/**
 * A small ZIP writer for installer tests. Off-the-shelf writers (yazl, archiver)
 * refuse `../` and absolute names and cannot mark an entry a symlink, which is
 * exactly what the hostile fixtures need, so entries are laid out by hand:
 * local header + data per entry, then the central directory and its end record
 * (APPNOTE 4.3.7, 4.3.12, 4.3.16), deflated or stored.
 */
import { crc32, deflateRawSync } from 'node:zlib'

export interface ZipEntrySpec {
  /** Written as is, `../` and `/` included. A trailing `/` makes a directory. */
  name: string
  data?: Buffer | string
  /** Unix st_mode for the external attributes (default 0o100644 for files, 0o040755 for directories). */
  mode?: number
  /** Default deflate (8), as kubo's releases use; 0 stores. */
  method?: 0 | 8
}

const UNIX_HOST_VERSION = (3 << 8) | 20 // made by Unix, spec 2.0
const DOS_DATE = ((2025 - 1980) << 9) | (1 << 5) | 1

export function buildZip (entries: ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8')
    const raw = typeof e.data === 'string' ? Buffer.from(e.data) : (e.data ?? Buffer.alloc(0))
    const directory = e.name.endsWith('/')
    const method = e.method ?? (directory ? 0 : 8)
    const body = method === 8 ? deflateRawSync(raw, { level: 1 }) : raw
    const crc = crc32(raw)
    const mode = e.mode ?? (directory ? 0o040755 : 0o100644)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4)
    local.writeUInt16LE(0x0800, 6) // UTF-8 names
    local.writeUInt16LE(method, 8)
    local.writeUInt16LE(0, 10)
    local.writeUInt16LE(DOS_DATE, 12)
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(body.length, 18)
    local.writeUInt32LE(raw.length, 22)
    local.writeUInt16LE(name.length, 26)
    local.writeUInt16LE(0, 28)
    locals.push(local, name, body)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE(UNIX_HOST_VERSION, 4)
    central.writeUInt16LE(20, 6)
    central.writeUInt16LE(0x0800, 8)
    central.writeUInt16LE(method, 10)
    central.writeUInt16LE(0, 12)
    central.writeUInt16LE(DOS_DATE, 14)
    central.writeUInt32LE(crc, 16)
    central.writeUInt32LE(body.length, 20)
    central.writeUInt32LE(raw.length, 24)
    central.writeUInt16LE(name.length, 28)
    central.writeUInt16LE(0, 30) // extra
    central.writeUInt16LE(0, 32) // comment
    central.writeUInt16LE(0, 34) // disk
    central.writeUInt16LE(0, 36) // internal attributes
    central.writeUInt32LE(((mode << 16) | (directory ? 0x10 : 0)) >>> 0, 38)
    central.writeUInt32LE(offset, 42)
    centrals.push(central, name)
    offset += local.length + name.length + body.length
  }
  const cd = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(entries.length, 8)
  end.writeUInt16LE(entries.length, 10)
  end.writeUInt32LE(cd.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, cd, end])
}
