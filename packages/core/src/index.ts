/**
 * @packageDocumentation
 *
 * The citrate-ipfs core library: configuration, the kubo daemon manager and its
 * installer. It never prints and never serves HTTP: long operations take
 * `{ signal, onProgress }` and report through typed events; failures are
 * `CitrateError`s with a stable `code`.
 *
 * @example
 * ```ts
 * import { loadConfig, DaemonManager } from '@citrate-ipfs/core'
 *
 * const config = await loadConfig()            // $CITRATE_HOME/citrate.toml
 * const daemon = new DaemonManager({ config })
 * const { status, adopted } = await daemon.start({ onProgress: e => console.log(e.type) })
 * console.log(status.peerId, adopted)
 * await daemon.stop()
 * ```
 */
export * from './errors.ts'
export { writeFileAtomic } from './util/atomic-write.ts'
export { followFile, type FollowFileOptions } from './util/follow-file.ts'
export { tailFile } from './util/log-tail.ts'
export { loadConfig, updateIpfsConfig, type LoadConfigOptions, type LoadedConfig } from './config/load.ts'
export { citratePaths, ensureLayout, pullsRoot, type CitratePaths } from './config/paths.ts'
export {
  defaultIpfsConfig, IPFS_KEYS, isIpfsKey, KEY_DOCS, PINNED_KUBO_VERSION, DEFAULT_DIST_URL,
  type IpfsConfig
} from './config/schema.ts'
export { normalizeGatewayUrl, normalizeBaseUrl, parseHttpUrl, isLoopbackHost, UrlError } from './config/url.ts'
export { DaemonManager, isKuboInstalled, type DaemonManagerOptions, type StartOptions } from './daemon/manager.ts'
export { findKubo, locateKubo, kuboVersion, compareVersions, isSingleExecutable, MIN_KUBO_VERSION, type KuboBinary } from './daemon/binary.ts'
export { KuboRpc, multiaddrToHttpUrl, type KuboRpcOptions, type RpcCallOptions } from './daemon/rpc.ts'
export { readRpcSecret } from './daemon/rpc-secret.ts'
export { toStatusView, type DaemonStatus, type DaemonState, type DaemonProgressEvent, type DaemonStartResult, type DaemonStopResult, type IpfsStatusView } from './daemon/types.ts'
export { installKubo, type InstallOptions, type InstallProgressEvent, type InstallResult } from './install/installer.ts'
export {
  distTarget, kuboArchiveName, kuboBinaryName, archiveFormat, terminationSignals, executableCandidates,
  defaultCitrateHome, expandHome, currentPlatform, rustTargetTriple, sidecarFileName, bundledKuboNames, type PlatformInfo
} from './platform.ts'
// -- IPLD, retrieval, publishing, the registry, pins, verification at rest, and the models layer above them --
export { logger, enableLogging, type Logger } from './log.ts'
export * from './ipld/index.ts'
export * from './fetch/index.ts'
export * from './formats/index.ts'
export { DownloadLimiter } from './net/rate-limit.ts'
export * from './registry/index.ts'
export * from './publish/index.ts'
export * from './pins/index.ts'
export * from './verify/index.ts'
export * from './models/index.ts'
export * from './objects/index.ts'
export { OBJECT_CODECS, OBJECT_KINDS, type ObjectCodec, type ObjectKind } from '@citrate-ipfs/contract/plain'
