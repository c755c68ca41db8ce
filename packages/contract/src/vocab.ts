/** The registry's enumerations as plain values (model.ts builds its schemas from them). */
export const MODEL_KINDS = ['model', 'dataset', 'checkpoint', 'asset'] as const
export const MODEL_SOURCES = ['ipfs', 'gateway', 'local'] as const
/** How `put` stores bytes: one raw block, one IPLD node from dag-json input, or a UnixFS file (kubo's `ipfs add` defaults). */
export const OBJECT_CODECS = ['raw', 'dag-json', 'dag-cbor', 'unixfs'] as const
/** What `get` found at a CID (and path): a UnixFS file, a raw block, or an IPLD node (answered as dag-json). */
export const OBJECT_KINDS = ['file', 'raw', 'dag-json', 'dag-cbor'] as const
export type ObjectCodec = typeof OBJECT_CODECS[number]
export type ObjectKind = typeof OBJECT_KINDS[number]
