export { sniffFormat, sniffFile, MODEL_FORMATS, FORMAT_EXTENSIONS, type ModelFormat } from './sniff.ts'
export { readGgufHeader, MAX_TENSORS, MAX_KV_COUNT, GGUF_READ_LIMIT_BYTES, type GgufSummary } from './gguf.ts'
export { readSafetensorsHeader, SAFETENSORS_READ_LIMIT_BYTES, type SafetensorsSummary } from './safetensors.ts'
export { describeContent, describeFile, describeFolder, CONFIG_JSON_MAX_BYTES, type ModelInfo } from './describe.ts'
