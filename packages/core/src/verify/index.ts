/** Verification at rest: re-deriving a root CID from stored bytes and a DAG index, no daemon needed. */
export { verifyContent, type VerifyOptions, type VerifyResult, type VerifyProgressEvent } from './verify.ts'
