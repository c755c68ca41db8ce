export { sniffFormat, sniffFile, MODEL_FORMATS, FORMAT_EXTENSIONS, type ModelFormat } from './sniff.ts'
export { readGgufHeader, MAX_TENSORS, GGUF_READ_LIMIT_BYTES, type GgufSummary } from './gguf.ts'
