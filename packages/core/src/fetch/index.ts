/**
 * Verified retrieval: a CID into verified bytes in a work folder, resumable,
 * from sources the caller injects (the local daemon's gateway and untrusted
 * trustless gateways alike). Every block is verified against its CID as it
 * arrives. It knows nothing of models, the registry, pins or the daemon
 * manager: the models layer (`../models/`) builds on it.
 *
 * @example
 * ```ts
 * import { Retrieval, GatewaySource } from '@citrate-ipfs/core'
 *
 * const r = await Retrieval.open(cid, '/tmp/work/' + cid, { signal })
 * try {
 *   const done = await r.run({ sources: [new GatewaySource('https://trustless-gateway.link')], signal, maxBytes: 20e9, rangeBytes: 64 << 20 })
 *   console.log(done.totalBytes, r.contentPath)
 * } finally { await r.close() }
 * ```
 */
export { Retrieval, type RetrieveOptions, type RetrieveResult } from './retrieval.ts'
export { type SkippedSymlink, type SymlinkMode } from './walk/index.ts'
export { type SourceReport } from './fetcher.ts'
export { GatewaySource, type GatewaySourceOptions } from './gateway.ts'
export { TIER_CAPS, type SourceTier } from './source-pool.ts'
export { type TailStats } from './fetcher.ts'
export { type BlockSource, type BlockRequestOptions, type CarRequestOptions, type VerifiedBlock } from './source.ts'
export { type BlockCache } from './local-blocks.ts'
export { readCarBlocks } from './car.ts'
export { resolvePathFromSources, type ResolvePathOptions } from './resolve.ts'
