/** The cluster's shapes, as the wire contract defines them (they reach the service's clients unchanged). */
import type { ClusterPeerStatus, ClusterPinProgress, ClusterPinView, PeerPinStatus, PinPeerState } from '@citrate-ipfs/contract'

export type { ClusterPeerStatus, ClusterPinProgress, PeerPinStatus, PinPeerState }
export type GlobalPinInfo = ClusterPinView

/** IPFS Cluster's tracker status words (api.TrackerStatus), as the REST API spells them. */
export type TrackerStatus = string

/** A peer as `GET /id` and `GET /peers` describe it. */
export interface ClusterPeerView {
  id: string
  peername: string
  version: string
  addresses: string[]
  clusterPeers: string[]
  ipfs: { id: string, addresses: string[], error?: string }
  error?: string
}
