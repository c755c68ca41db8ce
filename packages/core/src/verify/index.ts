export { DagIndexBuilder, readDagIndex, isLeaf, DAG_INDEX_FILE, type DagIndex } from '../ipld/dag-index.ts'
export { verifyContent, type VerifyOptions, type VerifyResult, type VerifyProgressEvent } from './verify.ts'
export { verifyModel, type VerifyModelOptions, type ModelVerifyResult } from './model.ts'
