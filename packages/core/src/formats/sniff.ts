/**
 * What a model file is, from its first bytes, not from its name: a CID has no
 * name, and llama.cpp, ollama's importer and transformers pick files by
 * extension, so a pulled file is named by what it holds.
 */
import { open } from 'node:fs/promises'

export const MODEL_FORMATS = ['gguf', 'safetensors', 'onnx', 'pytorch', 'bin'] as const
export type ModelFormat = typeof MODEL_FORMATS[number]

/** The file extension each format is saved under (`bin`: anything we do not recognise). */
export const FORMAT_EXTENSIONS: Record<ModelFormat, string> = {
  gguf: 'gguf',
  safetensors: 'safetensors',
  onnx: 'onnx',
  pytorch: 'pt',
  bin: 'bin'
}

/** Bytes sniffFormat looks at. */
export const SNIFF_BYTES = 16

/** The safetensors header is JSON of at most this many bytes (the reference implementation's limit is 100 MB). */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000

/**
 * The format of a file from its first bytes (at least SNIFF_BYTES of them
 * when the file is that long):
 *  - GGUF: the magic `GGUF`;
 *  - safetensors: a little-endian u64 header length (2 … 100 MB), then `{`;
 *  - PyTorch (`torch.save`, a zip archive): `PK\x03\x04`;
 *  - ONNX: a protobuf ModelProto, which starts with field 1 (`ir_version`,
 *    a small varint: 0x08 0x01–0x7f) followed by the tag of one of its
 *    other fields (producer_name, graph, opset_import, …);
 *  - anything else: `bin`.
 */
export function sniffFormat (head: Uint8Array): ModelFormat {
  if (startsWith(head, [0x47, 0x47, 0x55, 0x46])) return 'gguf'
  if (head.byteLength >= 9) {
    const length = new DataView(head.buffer, head.byteOffset, head.byteLength).getBigUint64(0, true)
    if (length >= 2n && length <= BigInt(SAFETENSORS_MAX_HEADER_BYTES) && head[8] === 0x7b) return 'safetensors'
  }
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) return 'pytorch'
  if (head.byteLength >= 3 && head[0] === 0x08 && (head[1] as number) >= 1 && (head[1] as number) <= 0x7f && ONNX_NEXT_TAGS.has(head[2] as number)) return 'onnx'
  return 'bin'
}

/**
 * ModelProto's fields after ir_version, as their protobuf tags: producer_name (2),
 * producer_version (3), domain (4), model_version (5), doc_string (6), graph (7),
 * opset_import (8), metadata_props (14), training_info (20), functions (25).
 */
const ONNX_NEXT_TAGS: ReadonlySet<number> = new Set([0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72, 0xa2, 0xca])

/** The format of the file at `path` (reads its first SNIFF_BYTES bytes). */
export async function sniffFile (path: string): Promise<ModelFormat> {
  const fh = await open(path, 'r')
  try {
    const head = new Uint8Array(SNIFF_BYTES)
    const { bytesRead } = await fh.read(head, 0, SNIFF_BYTES, 0)
    return sniffFormat(head.subarray(0, bytesRead))
  } finally {
    await fh.close()
  }
}

function startsWith (bytes: Uint8Array, prefix: number[]): boolean {
  return bytes.byteLength >= prefix.length && prefix.every((b, i) => bytes[i] === b)
}
