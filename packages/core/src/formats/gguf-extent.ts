/**
 * Where a GGUF file's key/value section ends, found by walking it — lengths
 * and types only, nothing decoded — in one sequential pass of buffered reads
 * that stops at `limit` bytes. It runs before `@huggingface/gguf` parses the
 * header: that library retries a value that runs past what it has read by
 * reading 2 MB more and parsing the value again from its start, so a
 * 1,000,000-element array costs it a minute of CPU before its own 50 MB cap
 * refuses it. Walked here first, a header that does not fit the bound is
 * refused after reading at most `limit` bytes, in linear time.
 *
 * The value types and sizes are the GGUF spec's (gguf_metadata_value_type):
 * u8 i8 bool 1 byte, u16 i16 2, u32 i32 f32 4, u64 i64 f64 8, string = u64
 * length + bytes, array = u32 element type + u64 count + elements.
 */
import { open, type FileHandle } from 'node:fs/promises'

/** Bytes of each fixed-size value type (by its number); strings (8) and arrays (9) are walked. */
const FIXED_SIZE: Readonly<Record<number, number>> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 }
const STRING = 8
const ARRAY = 9
/** Arrays of arrays are walked to this depth (the spec allows nesting; real files have none). */
const MAX_ARRAY_DEPTH = 4

/** Why the walk stopped: the header needs more than `limit` bytes, ends past the file, or has an unknown type. */
export class GgufExtentError extends Error {}

class BufferedReader {
  private buf = Buffer.alloc(0)
  private bufStart = 0
  pos: number
  private readonly fh: FileHandle
  private readonly fileSize: number
  private readonly limit: number
  constructor (fh: FileHandle, fileSize: number, limit: number, start: number) {
    this.fh = fh
    this.fileSize = fileSize
    this.limit = limit
    this.pos = start
  }

  /** Makes `n` bytes at `pos` available; throws when they lie past the limit or the file. */
  private async ensure (n: number): Promise<void> {
    const end = this.pos + n
    if (end > this.limit) throw new GgufExtentError(`the header needs more than the ${this.limit / 1e6} MB read limit`)
    if (end > this.fileSize) throw new GgufExtentError(`the header is truncated (it runs past the end of the ${this.fileSize}-byte file)`)
    if (this.pos >= this.bufStart && end <= this.bufStart + this.buf.length) return
    const size = Math.min(Math.max(n, 1024 * 1024), this.limit - this.pos, this.fileSize - this.pos)
    const next = Buffer.alloc(size)
    const { bytesRead } = await this.fh.read(next, 0, size, this.pos)
    if (bytesRead < n) throw new GgufExtentError('the header is truncated (the file ended while it was read)')
    this.buf = next.subarray(0, bytesRead)
    this.bufStart = this.pos
  }

  async u32 (little: boolean): Promise<number> {
    await this.ensure(4)
    const v = little ? this.buf.readUInt32LE(this.pos - this.bufStart) : this.buf.readUInt32BE(this.pos - this.bufStart)
    this.pos += 4
    return v
  }

  async u64 (little: boolean): Promise<bigint> {
    await this.ensure(8)
    const v = little ? this.buf.readBigUInt64LE(this.pos - this.bufStart) : this.buf.readBigUInt64BE(this.pos - this.bufStart)
    this.pos += 8
    return v
  }

  /** Moves past `n` bytes that must lie within the limit and the file (they are not read). */
  skip (n: bigint): void {
    const end = BigInt(this.pos) + n
    if (end > BigInt(this.limit)) throw new GgufExtentError(`the header needs more than the ${this.limit / 1e6} MB read limit`)
    if (end > BigInt(this.fileSize)) throw new GgufExtentError(`the header is truncated (it runs past the end of the ${this.fileSize}-byte file)`)
    this.pos = Number(end)
  }
}

/**
 * The offset where the key/value section of the GGUF at `path` ends (the
 * tensor infos start there), walking `kvCount` pairs from byte 24.
 * @throws GgufExtentError
 */
export async function ggufKvExtent (path: string, kvCount: bigint, little: boolean, limit: number): Promise<number> {
  const fh = await open(path, 'r')
  try {
    const r = new BufferedReader(fh, (await fh.stat()).size, limit, 24)
    const value = async (type: number, depth: number): Promise<void> => {
      const fixed = FIXED_SIZE[type]
      if (fixed != null) { r.skip(BigInt(fixed)); return }
      if (type === STRING) { r.skip(await r.u64(little)); return }
      if (type !== ARRAY) throw new GgufExtentError(`a value has the unknown type ${type}`)
      if (depth >= MAX_ARRAY_DEPTH) throw new GgufExtentError(`arrays are nested deeper than ${MAX_ARRAY_DEPTH}`)
      const of = await r.u32(little)
      const n = await r.u64(little)
      const size = FIXED_SIZE[of]
      if (size != null) { r.skip(n * BigInt(size)); return }
      // Each element is at least 8 bytes (a string's length): a count the bound cannot hold is refused before the loop.
      if (n * 8n > BigInt(limit)) throw new GgufExtentError(`an array declares ${n} elements, more than the ${limit / 1e6} MB read limit holds`)
      for (let i = 0n; i < n; i++) await value(of, depth + 1)
    }
    for (let i = 0n; i < kvCount; i++) {
      r.skip(await r.u64(little)) // the key
      await value(await r.u32(little), 0)
    }
    return r.pos
  } finally {
    await fh.close()
  }
}
