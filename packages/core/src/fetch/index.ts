/**
 * Verified retrieval by CID. `pull` downloads any UnixFS file or directory
 * from the local daemon and/or untrusted trustless gateways, verifying every
 * block against its CID as it arrives, resuming interrupted pulls, and
 * committing into the models folder with the registry entry written last.
 *
 * @example
 * ```ts
 * import { loadConfig, startPull } from '@citrate-ipfs/core'
 *
 * const config = await loadConfig()
 * const handle = startPull({ cid: 'Qm…', config, name: 'qwen2-0.5b', filename: 'qwen2-0.5b.gguf',
 *   onProgress: e => { if (e.type === 'citrate:pull:progress') console.log(e.progress.progress_percent) } })
 * const { entry } = await handle.result   // entry.verified === true
 * ```
 */
export { pull, startPull, pullModelId, checkPullInput, MAX_CONCURRENT_PULLS } from './pull.ts'
export type { DownloadProgress, DownloadStatus, PullEvent, PullHandle, PullOptions, PullResult } from './types.ts'
export { GatewaySource, type GatewaySourceOptions } from './gateway.ts'
export { SourceRequestError, type BlockSource, type BlockRequestOptions, type CarRequestOptions, type VerifiedBlock } from './source.ts'
export { resolveSources, PUBLIC_TRUSTLESS_GATEWAYS, type SourceMode, type ResolveSourcesOptions, type ResolvedSources } from './sources.ts'
export { readCarBlocks } from './car.ts'
