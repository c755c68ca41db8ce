/**
 * What a model's bytes say about it, for metadata.json, the registry entry
 * and `models show`: a file's format and header (GGUF, safetensors), or a
 * folder's config.json and the headers of its weights. Never throws for bad
 * content — the bytes are the verified content the user asked for, whatever
 * they hold — a header that does not read is reported in `header_error`.
 */
import { lstat, open, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { ModelInfo } from '@citrate-ipfs/contract'
import { readGgufHeader, type GgufSummary } from './gguf.ts'
import { readSafetensorsHeader } from './safetensors.ts'
import { sniffFile } from './sniff.ts'

export type { ModelInfo } from '@citrate-ipfs/contract'

/** A folder's config.json is read only up to this size (real ones are a few KB). */
export const CONFIG_JSON_MAX_BYTES = 1024 * 1024
/** Weight files of one folder whose headers are read (the largest Hub models have ~200 shards). */
export const MAX_SHARDS_READ = 1024

/** Describes the verified content at `path` (a file, or a folder for a directory CID). */
export async function describeContent (path: string, type: 'file' | 'directory'): Promise<ModelInfo> {
  return type === 'directory' ? await describeFolder(path) : await describeFile(path)
}

export async function describeFile (path: string): Promise<ModelInfo> {
  const format = await sniffFile(path)
  if (format === 'gguf') {
    try {
      return { format, ...fromGguf(await readGgufHeader(path)) }
    } catch (err) {
      return { format, header_error: (err as Error).message }
    }
  }
  if (format === 'safetensors') {
    try {
      const st = await readSafetensorsHeader(path)
      return { format, parameter_count: st.parameterCount, tensor_count: st.tensorCount, dtypes: st.dtypes }
    } catch (err) {
      return { format, header_error: (err as Error).message }
    }
  }
  return { format }
}

function fromGguf (g: GgufSummary): Omit<ModelInfo, 'format'> {
  const info: Omit<ModelInfo, 'format'> = {
    architecture: g.architecture,
    name: g.name,
    parameter_count: g.parameterCount,
    file_type: g.fileType,
    quantization: g.quantization,
    context_length: g.contextLength,
    embedding_length: g.embeddingLength,
    block_count: g.blockCount,
    license: g.license,
    tokenizer_model: g.tokenizerModel,
    tensor_count: g.tensorCount
  }
  return Object.fromEntries(Object.entries(info).filter(([, v]) => v !== undefined))
}

/**
 * A Hugging Face-style folder: config.json (architectures, model_type,
 * torch_dtype) and the weights at its top level — safetensors shards summed
 * (tensors, parameters, dtypes), a single GGUF described as a file is.
 */
export async function describeFolder (dir: string): Promise<ModelInfo> {
  const names = (await readdir(dir, { withFileTypes: true })).filter(e => e.isFile()).map(e => e.name).sort()
  const info: ModelInfo = { format: 'folder', ...await readConfigJson(join(dir, 'config.json')) }
  if (info.model_type != null) info.architecture = info.model_type
  const shards = names.filter(n => n.endsWith('.safetensors'))
  const ggufs = names.filter(n => n.endsWith('.gguf'))
  if (shards.length > 0) {
    info.format = 'safetensors'
    let tensors = 0
    let parameters = 0
    const dtypes = new Set<string>()
    for (const name of shards.slice(0, MAX_SHARDS_READ)) {
      try {
        const st = await readSafetensorsHeader(join(dir, name))
        tensors += st.tensorCount
        parameters += st.parameterCount
        for (const d of st.dtypes) dtypes.add(d)
      } catch (err) {
        info.header_error = (err as Error).message
        return info
      }
    }
    if (shards.length <= MAX_SHARDS_READ) {
      info.tensor_count = tensors
      info.parameter_count = parameters
    }
    info.dtypes = [...dtypes].sort()
  } else if (ggufs.length === 1) {
    const g = await describeFile(join(dir, ggufs[0] as string))
    Object.assign(info, g, info.architecture != null ? { architecture: info.architecture } : {})
  } else if (ggufs.length > 1) {
    info.format = 'gguf'
  } else if (names.some(n => n.endsWith('.onnx'))) {
    info.format = 'onnx'
  } else if (names.some(n => /\.(pt|pth|bin)$/.test(n))) {
    const weights = names.find(n => /\.(pt|pth|bin)$/.test(n)) as string
    if (await sniffFile(join(dir, weights)) === 'pytorch') info.format = 'pytorch'
  }
  return info
}

/** The fields of a folder's config.json we report; fields of another type are left out (it is the model's file, not ours). */
async function readConfigJson (path: string): Promise<Pick<ModelInfo, 'architectures' | 'model_type' | 'torch_dtype'>> {
  let text: string
  try {
    const st = await lstat(path)
    if (!st.isFile() || st.size > CONFIG_JSON_MAX_BYTES) return {}
    const fh = await open(path, 'r')
    try {
      text = (await fh.readFile()).toString('utf8')
    } finally {
      await fh.close()
    }
  } catch {
    return {}
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    return {}
  }
  if (doc == null || typeof doc !== 'object' || Array.isArray(doc)) return {}
  const c = doc as Record<string, unknown>
  const out: Pick<ModelInfo, 'architectures' | 'model_type' | 'torch_dtype'> = {}
  if (Array.isArray(c.architectures) && c.architectures.every(a => typeof a === 'string')) out.architectures = c.architectures.slice(0, 16)
  if (typeof c.model_type === 'string') out.model_type = c.model_type
  if (typeof c.torch_dtype === 'string') out.torch_dtype = c.torch_dtype
  return out
}
