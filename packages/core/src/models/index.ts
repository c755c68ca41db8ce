/**
 * The models layer: what a user of Citrate calls a model, dataset or
 * checkpoint, built on verified retrieval (`../fetch/`), the registry, pins
 * and the daemon. Pulling a model (the pull queue, shared identical pulls,
 * sampled progress, the commit into models/ with its metadata, auto-pin,
 * registry reconciliation), removing one and verifying one at rest.
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
export type { DownloadProgress, DownloadStatus, PullEvent, PullHandle, PullOptions, PullResult, SourceProgress, SourceShare, SourceState } from './types.ts'
export { resolveSources, clusterGatewayUrls, CLUSTER_DISCOVERY_MS, PUBLIC_TRUSTLESS_GATEWAYS, type SourceMode, type ResolveSourcesOptions, type ResolvedSources } from './sources.ts'
export { removeModel, type RemoveModelResult } from './remove.ts'
export { verifyModel, verifyRegisteredModel, type VerifyModelOptions, type ModelVerifyResult } from './verify.ts'
export { writeModelFiles, modelDir, entryDir, kindRoot, type ModelFilesOptions } from './model-files.ts'
export { shortCidId, DEFAULT_FILE_STEM } from './naming.ts'
export { pinPending, DAEMON_NOT_RUNNING_PIN_REASON, type PinPendingResult } from './pin-pending.ts'
export { diskUsage, type DiskUsage } from './disk-usage.ts'
