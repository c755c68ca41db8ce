/**
 * The IPLD layer every other folder builds on: checking a block against its
 * CID (every hash function `ipfs add --hash` offers), decoding UnixFS nodes,
 * and the DAG index that lets stored bytes be re-proved without a daemon.
 * Pull and `models verify` share it, so what one accepts the other re-checks.
 *
 * @example
 * ```ts
 * import { verifyBlock } from '@citrate-ipfs/core'
 *
 * verifyBlock(cid, bytes)   // throws BlockVerificationError unless bytes hash to cid
 * ```
 */
export { verifyBlock, assertSupportedCid, MAX_BLOCK_BYTES } from './verify-block.ts'
export { checkEntryName } from './unixfs.ts'
export { DagIndexBuilder, readDagIndex, isLeaf, DAG_INDEX_FILE, type DagIndex } from './dag-index.ts'
export { parseCid, sameCid } from './cid.ts'
export { parseContentPath, formatContentPath, type ContentPath, type ParseContentPathOptions } from './content-path.ts'
export { resolveContentPath, type ResolvedPath, type BlockGetter, type ResolveContentPathOptions } from './resolve-path.ts'
