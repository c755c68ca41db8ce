/**
 * The GGUF header (llama.cpp's format) of a local file, read with
 * `@huggingface/gguf` — the parser the Hugging Face Hub runs on every GGUF it
 * hosts — plus the checks a file from an untrusted DAG needs on top of it.
 *
 * Bounded: the key/value section (where all the size is: the tokenizer's
 * vocabulary and merges, 1–12 MB in real files) is first walked here
 * (formats/gguf-extent.ts: lengths only, linear time) and refused if it needs
 * more than GGUF_READ_LIMIT_BYTES (24 MB), so no more than that is ever read
 * of a hostile header; the library re-parses a long value from its start
 * each time it reads 2 MB more, which makes an unbounded array cost minutes
 * of CPU. Counts are capped before anything is built (MAX_TENSORS tensor
 * infos, MAX_KV_COUNT key/values; the library also caps 1,000,000 array
 * elements, 10 MB strings, 8 dimensions, and holds at most 50 MB). After it
 * ends we check what it cannot see: it pads a short read with zeros, so a
 * truncated header parses as zeros; a header that ends past the end of the
 * file, or a tensor whose data starts past it, is refused here. Fields we
 * report must have the type the spec gives them.
 *
 * Loaded on first use: the library and its quantization tables cost ~100 ms to
 * import, which a CLI command that never reads a GGUF should not pay.
 */
import { open, stat } from 'node:fs/promises'
import { basename } from 'node:path'
import type { GGUFParseOutput } from '@huggingface/gguf'
import { ModelHeaderError } from '../errors.ts'
import { ggufKvExtent, GgufExtentError } from './gguf-extent.ts'

/** More tensor infos than this is no model (the largest real GGUFs have a few thousand). */
export const MAX_TENSORS = 131_072
/** The most of a GGUF header read: twice the largest real ones (a 256k-token vocabulary with merges is ~12 MB). */
export const GGUF_READ_LIMIT_BYTES = 24_000_000
/** More key/values than this is no model (real files have 20–60; the library's own cap). */
export const MAX_KV_COUNT = 100_000

export interface GgufSummary {
  version: number
  tensorCount: number
  /** `general.architecture` (llama, qwen2, …). */
  architecture?: string
  /** `general.name`. */
  name?: string
  /** Sum of the tensors' element counts. */
  parameterCount?: number
  /** `general.file_type`, the llama_ftype enum (15 = MOSTLY_Q4_K_M). */
  fileType?: number
  /** `general.file_type` as llama.cpp names it (Q4_K_M, F16, …). */
  quantization?: string
  /** `<architecture>.context_length`, `.embedding_length`, `.block_count`. */
  contextLength?: number
  embeddingLength?: number
  blockCount?: number
  /** `general.license`. */
  license?: string
  /** `tokenizer.ggml.model` (llama, gpt2, bert, …). */
  tokenizerModel?: string
}

/** Reads the GGUF header of `path`; throws ModelHeaderError (code UNSUPPORTED) for anything malformed. */
export async function readGgufHeader (path: string): Promise<GgufSummary> {
  const file = basename(path)
  const refuse = (problem: string, cause?: unknown): ModelHeaderError => new ModelHeaderError('gguf', file, problem, cause != null ? { cause } : undefined)
  const fileSize = (await stat(path)).size
  const { version, tensorCount, kvCount, little } = await readPreamble(path, refuse)
  try {
    await ggufKvExtent(path, kvCount, little, GGUF_READ_LIMIT_BYTES)
  } catch (err) {
    if (err instanceof GgufExtentError) throw refuse(err.message, err)
    throw err
  }

  const { gguf, GGMLFileQuantizationType } = await import('@huggingface/gguf')
  let parsed: GGUFParseOutput & { parameterCount: number }
  try {
    parsed = await gguf(path, { allowLocalFile: true, computeParametersCount: true })
  } catch (err) {
    // A RangeError is a read past what the library holds: past the end of the file (tensor infos cut short).
    throw refuse(err instanceof RangeError ? 'the header runs past the end of the file' : (err as Error).message, err)
  }
  const headerEnd = parsed.tensorInfoByteRange[1]
  if (headerEnd > fileSize) throw refuse(`the header is truncated (it needs ${headerEnd} bytes, the file has ${fileSize})`)
  const dataStart = Number(parsed.tensorDataOffset)
  for (const t of parsed.tensorInfos) {
    if (tensorCount > 0 && dataStart + Number(t.offset) > fileSize) throw refuse(`tensor ${JSON.stringify(t.name)} starts past the end of the file`)
  }

  const meta = parsed.metadata as Record<string, unknown>
  const str = (key: string): string | undefined => {
    const v = meta[key]
    if (v === undefined) return undefined
    if (typeof v !== 'string') throw refuse(`${key} is a ${describeType(v)}, expected a string`)
    return v
  }
  const int = (key: string): number | undefined => {
    const v = meta[key]
    if (v === undefined) return undefined
    const n = typeof v === 'bigint' ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : Number.NaN) : v
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw refuse(`${key} is ${typeof v === 'bigint' || typeof v === 'number' ? String(v) : `a ${describeType(v)}`}, expected a non-negative integer`)
    return n
  }
  const architecture = str('general.architecture')
  const fileType = int('general.file_type')
  const quantizationName = fileType !== undefined ? (GGMLFileQuantizationType as unknown as Record<number, string | undefined>)[fileType] : undefined
  const summary: GgufSummary = {
    version,
    tensorCount,
    architecture,
    name: str('general.name'),
    parameterCount: parsed.parameterCount,
    fileType,
    quantization: quantizationName,
    license: str('general.license'),
    tokenizerModel: str('tokenizer.ggml.model')
  }
  if (architecture !== undefined) {
    summary.contextLength = int(`${architecture}.context_length`)
    summary.embeddingLength = int(`${architecture}.embedding_length`)
    summary.blockCount = int(`${architecture}.block_count`)
  }
  return Object.fromEntries(Object.entries(summary).filter(([, v]) => v !== undefined)) as unknown as GgufSummary
}

/** Magic, version, tensor and key/value counts (24 bytes), checked before anything else is read. */
async function readPreamble (path: string, refuse: (problem: string) => ModelHeaderError): Promise<{ version: number, tensorCount: number, kvCount: bigint, little: boolean }> {
  const head = new Uint8Array(24)
  const fh = await open(path, 'r')
  let n: number
  try {
    n = (await fh.read(head, 0, 24, 0)).bytesRead
  } finally {
    await fh.close()
  }
  if (n < 4 || head[0] !== 0x47 || head[1] !== 0x47 || head[2] !== 0x55 || head[3] !== 0x46) throw refuse('it does not start with the GGUF magic')
  if (n < 24) throw refuse(`the file ends after ${n} bytes, inside the fixed header`)
  const view = new DataView(head.buffer)
  // GGUF is little-endian; big-endian files exist (s390x) and show as a version with its low bytes zero.
  const little = (view.getUint32(4, true) & 0xffff) !== 0
  const version = view.getUint32(4, little)
  if (version !== 2 && version !== 3) throw refuse(`GGUF version ${version} (versions 2 and 3 are read)`)
  const tensors = view.getBigUint64(8, little)
  if (tensors > BigInt(MAX_TENSORS)) throw refuse(`it declares ${tensors} tensors (at most ${MAX_TENSORS} are accepted)`)
  const kvCount = view.getBigUint64(16, little)
  if (kvCount > BigInt(MAX_KV_COUNT)) throw refuse(`it declares ${kvCount} key/values (at most ${MAX_KV_COUNT} are accepted)`)
  return { version, tensorCount: Number(tensors), kvCount, little }
}

function describeType (v: unknown): string {
  return Array.isArray(v) ? 'array' : typeof v === 'bigint' ? 'integer' : typeof v
}
