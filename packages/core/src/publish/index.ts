export { hashPath, writeCar, addToKubo, type PublishOptions, type KuboAddOptions, type PublishResult, type PublishProgressEvent } from './publish.ts'
export {
  resolveImportShape, parseChunker, kuboAddParams, kuboAddFlags, UNIXFS_PROFILES, MAX_CHUNK_SIZE,
  type ImportShapeOptions, type ResolvedImportShape, type UnixfsProfile
} from './options.ts'
export { scanSource, type ScannedSource, type SourceEntry } from './source.ts'
