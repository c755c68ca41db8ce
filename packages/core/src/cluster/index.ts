/**
 * IPFS Cluster: pinset orchestration over many kubo nodes (replication
 * factors, allocation, re-pinning). A client of its REST API and the
 * operations built on it; the cluster replicates, we ask and watch.
 *
 * @example
 * ```ts
 * const client = await clusterClientFromConfig(config.cluster, config.paths.home)
 * const r = await clusterPin(client, cid, { replicationMin: 2, replicationMax: 3, timeoutMs: 600_000, onProgress: e => console.log(e) })
 * console.log(`${r.pinned.length}/${r.required} replicas`)
 * ```
 */
export { ClusterClient, clusterClientFromConfig, GATEWAY_TAG, stateOf, type ClusterClientOptions } from './rest.ts'
export {
  clusterPin, clusterUnpin, clusterPins, clusterStatus, kuboVersionFromAgent,
  type ClusterPinOptions, type ClusterPinOutcome, type ClusterStatusOptions, type ClusterStatusOutcome
} from './pin.ts'
export type { ClusterPeerView, GlobalPinInfo, PeerPinStatus, PinPeerState, ClusterPinProgress, ClusterPeerStatus } from './types.ts'
