/** A registry entry (`models/registry.json`) and the results of model commands. */
import { Type, type Static } from 'typebox'
import { MODEL_KINDS, MODEL_SOURCES } from './vocab.ts'

export { MODEL_KINDS, MODEL_SOURCES }

export const ModelKind = Type.Enum(MODEL_KINDS)
export type ModelKind = Static<typeof ModelKind>

/** How the content arrived: from the local daemon, from a gateway, or published from this machine. */
export const ModelSource = Type.Enum(MODEL_SOURCES)
export type ModelSource = Static<typeof ModelSource>

/**
 * What the model's own bytes say (formats/ in core): the GGUF header, the
 * safetensors headers, a folder's config.json. Every field is optional: a
 * field the content does not carry is left out.
 */
export const ModelInfo = Type.Object({
  /** gguf, safetensors, onnx, pytorch or bin (a file); for a folder, the format of its weights, else "folder". */
  format: Type.String({ minLength: 1 }),
  /** GGUF `general.architecture` (llama, qwen2, …); for a folder, config.json's `model_type`. */
  architecture: Type.Optional(Type.String()),
  /** GGUF `general.name`. */
  name: Type.Optional(Type.String()),
  /** Sum of the tensors' element counts (GGUF tensor infos, safetensors headers). */
  parameter_count: Type.Optional(Type.Integer({ minimum: 0 })),
  /** GGUF `general.file_type` and its llama.cpp name (15 = Q4_K_M). */
  file_type: Type.Optional(Type.Integer({ minimum: 0 })),
  quantization: Type.Optional(Type.String()),
  context_length: Type.Optional(Type.Integer({ minimum: 0 })),
  embedding_length: Type.Optional(Type.Integer({ minimum: 0 })),
  block_count: Type.Optional(Type.Integer({ minimum: 0 })),
  license: Type.Optional(Type.String()),
  /** GGUF `tokenizer.ggml.model` (llama, gpt2, …). */
  tokenizer_model: Type.Optional(Type.String()),
  /** safetensors: the dtypes present and the tensor count (summed over a folder's shards). */
  dtypes: Type.Optional(Type.Array(Type.String())),
  tensor_count: Type.Optional(Type.Integer({ minimum: 0 })),
  /** A folder's config.json: `architectures`, `model_type`, `torch_dtype`. */
  architectures: Type.Optional(Type.Array(Type.String())),
  model_type: Type.Optional(Type.String()),
  torch_dtype: Type.Optional(Type.String()),
  /** Why a header could not be read (malformed or hostile): the bytes are still the verified content. */
  header_error: Type.Optional(Type.String())
})
export type ModelInfo = Static<typeof ModelInfo>

/**
 * Where an entry's CID is replicated beyond this machine (additive, optional):
 * one record per cluster or pinning service, replaced when pinned again there.
 */
export const ModelReplica = Type.Object({
  /** "cluster" (an IPFS Cluster, `target` its REST URL) or "remote" (a pinning service, `target` its name). */
  kind: Type.Union([Type.Literal('cluster'), Type.Literal('remote')]),
  target: Type.String({ minLength: 1 }),
  /** Cluster peer ids holding it pinned (cluster). */
  peers: Type.Optional(Type.Array(Type.String())),
  /** The service's request id (remote). */
  requestid: Type.Optional(Type.String()),
  /** pinned, or the last status seen. */
  status: Type.String({ minLength: 1 }),
  /** ISO 8601 time it was recorded. */
  at: Type.String()
})
export type ModelReplica = Static<typeof ModelReplica>

/** A registry entry: the seed's schema, plus `kind` and what the bytes say (`info`). */
export const ModelEntry = Type.Object({
  /** A safe folder name (letters, digits and . _ + -). */
  id: Type.String({ minLength: 1 }),
  name: Type.String({ minLength: 1 }),
  cid: Type.String({ minLength: 1 }),
  size_bytes: Type.Integer({ minimum: 0 }),
  quantization: Type.Union([Type.String(), Type.Null()]),
  /** ISO 8601 time of download or publish. */
  downloaded_at: Type.String(),
  /** Where the content lives on disk (a file, or a folder for directory CIDs). */
  path: Type.String({ minLength: 1 }),
  source: ModelSource,
  source_url: Type.Union([Type.String(), Type.Null()]),
  verified: Type.Boolean(),
  kind: ModelKind,
  /** auto_pin wanted this pinned but the daemon could not pin it then; the next `daemon start` (or `pin --registered`) does. */
  pin_pending: Type.Optional(Type.Boolean()),
  /** What the model's bytes say (its format, architecture, parameters, …). */
  info: Type.Optional(ModelInfo),
  /** Where it is replicated (`cluster pin`, `add --cluster`, `remote pin add`). */
  replicas: Type.Optional(Type.Array(ModelReplica))
})
export type ModelEntry = Static<typeof ModelEntry>

/** A re-verification: `ok`, or the problem found (a corrupt byte comes with its offset and file). */
export const VerifyOutcome = Type.Object({
  id: Type.String(),
  ok: Type.Boolean(),
  bytes: Type.Optional(Type.Integer()),
  method: Type.Optional(Type.String()),
  error: Type.Optional(Type.Object({
    code: Type.String(),
    message: Type.String(),
    offset: Type.Optional(Type.Integer()),
    path: Type.Optional(Type.String())
  }))
})
export type VerifyOutcome = Static<typeof VerifyOutcome>

export const RemoveModelResult = Type.Object({
  removed: ModelEntry,
  unpinned: Type.Boolean(),
  /** Why the pin was kept or could not be removed. */
  pinNote: Type.Optional(Type.String())
})
export type RemoveModelResult = Static<typeof RemoveModelResult>
