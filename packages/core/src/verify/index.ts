/** Verification at rest: re-deriving a root CID from stored bytes and a DAG index, no daemon needed. */
export { DagIndexBuilder, readDagIndex, isLeaf, DAG_INDEX_FILE, type DagIndex } from './dag-index.ts'
export { verifyContent, type VerifyOptions, type VerifyResult, type VerifyProgressEvent } from './verify.ts'
