/**
 * The safetensors header (Hugging Face's format): a little-endian u64 length
 * N, then N bytes of JSON mapping each tensor's name to `{dtype, shape,
 * data_offsets: [begin, end]}` (offsets into the data after the header), and
 * an optional `__metadata__` of strings. Read with one bounded read: a header
 * longer than SAFETENSORS_READ_LIMIT_BYTES, or one that does not fit in the
 * file, is refused before a byte of it is read; a tensor whose shape or
 * offsets are not what the spec allows is refused by name.
 */
import { open } from 'node:fs/promises'
import { basename } from 'node:path'
import { ModelHeaderError } from '../errors.ts'

/**
 * The largest header read. The reference implementation allows 100 MB; real
 * ones are a few hundred bytes per tensor (a 70B shard's is ~100 KB).
 */
export const SAFETENSORS_READ_LIMIT_BYTES = 16 * 1024 * 1024

export interface SafetensorsSummary {
  tensorCount: number
  /** Sum of the tensors' element counts. */
  parameterCount: number
  /** The dtypes present, sorted (F16, BF16, F32, I8, …). */
  dtypes: string[]
  /** `__metadata__` (string → string), when present. */
  metadata?: Record<string, string>
}

export async function readSafetensorsHeader (path: string): Promise<SafetensorsSummary> {
  const file = basename(path)
  const refuse = (problem: string, cause?: unknown): ModelHeaderError => new ModelHeaderError('safetensors', file, problem, cause != null ? { cause } : undefined)
  const fh = await open(path, 'r')
  let json: string
  let dataBytes: number
  try {
    const fileSize = (await fh.stat()).size
    const head = Buffer.alloc(8)
    if ((await fh.read(head, 0, 8, 0)).bytesRead < 8) throw refuse(`the file has ${fileSize} bytes, fewer than the 8-byte header length`)
    const length = head.readBigUInt64LE(0)
    if (length > BigInt(SAFETENSORS_READ_LIMIT_BYTES)) throw refuse(`it declares a ${length}-byte header (at most ${SAFETENSORS_READ_LIMIT_BYTES} are read)`)
    const n = Number(length)
    if (8 + n > fileSize) throw refuse(`the header is truncated (it needs ${8 + n} bytes, the file has ${fileSize})`)
    const buf = Buffer.alloc(n)
    const { bytesRead } = await fh.read(buf, 0, n, 8)
    if (bytesRead < n) throw refuse(`the header is truncated (read ${bytesRead} of ${n} bytes)`)
    json = buf.toString('utf8')
    dataBytes = fileSize - 8 - n
  } finally {
    await fh.close()
  }
  let header: unknown
  try {
    header = JSON.parse(json)
  } catch (err) {
    throw refuse(`the header is not JSON (${(err as Error).message})`, err)
  }
  if (header == null || typeof header !== 'object' || Array.isArray(header)) throw refuse('the header is not a JSON object')
  let tensorCount = 0
  let parameterCount = 0
  const dtypes = new Set<string>()
  let metadata: Record<string, string> | undefined
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (value == null || typeof value !== 'object' || Array.isArray(value) || Object.values(value).some(v => typeof v !== 'string')) throw refuse('__metadata__ must map strings to strings')
      metadata = value as Record<string, string>
      continue
    }
    const t = value as { dtype?: unknown, shape?: unknown, data_offsets?: unknown }
    if (t == null || typeof t !== 'object' || Array.isArray(t)) throw refuse(`tensor ${JSON.stringify(name)} is not an object`)
    if (typeof t.dtype !== 'string' || !/^[A-Z0-9_]{1,16}$/.test(t.dtype)) throw refuse(`tensor ${JSON.stringify(name)} has dtype ${JSON.stringify(t.dtype)}`)
    if (!Array.isArray(t.shape) || t.shape.length > 8 || !t.shape.every(isCount)) throw refuse(`tensor ${JSON.stringify(name)} has shape ${JSON.stringify(t.shape)}, expected up to 8 non-negative integers`)
    const offsets = t.data_offsets
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || (offsets[0] as number) > (offsets[1] as number) || (offsets[1] as number) > dataBytes) {
      throw refuse(`tensor ${JSON.stringify(name)} has data_offsets ${JSON.stringify(offsets)} outside the ${dataBytes} data bytes`)
    }
    const elements = (t.shape as number[]).reduce((a, b) => a * b, 1)
    parameterCount += elements
    if (!Number.isSafeInteger(parameterCount)) throw refuse('the tensors\' shapes add up to an impossible parameter count')
    tensorCount++
    dtypes.add(t.dtype)
  }
  return { tensorCount, parameterCount, dtypes: [...dtypes].sort(), ...(metadata != null ? { metadata } : {}) }
}

function isCount (v: unknown): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
}
