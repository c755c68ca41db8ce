/**
 * The fleet as clients see it: an IPFS Cluster's peers and pins (with each
 * peer's state of a pin), and remote pins at Pinning Service API services.
 */
import { Type, type Static } from 'typebox'

/**
 * A pin's state on one cluster peer, folded from the cluster's tracker
 * statuses: queued, pinning, pinned, remote (allocated elsewhere: this peer
 * does not hold it), unpinned, error (pin_error, cluster_error — the peer does
 * not answer —, unpin_error, …; the raw one is in `status`).
 */
export const PIN_PEER_STATES = ['queued', 'pinning', 'pinned', 'remote', 'unpinned', 'error'] as const
export const PinPeerState = Type.Enum(PIN_PEER_STATES)
export type PinPeerState = Static<typeof PinPeerState>

export const PeerPinStatus = Type.Object({
  /** The cluster peer id. */
  peer: Type.String(),
  peername: Type.String(),
  /** Its kubo's peer id. */
  ipfsPeerId: Type.String(),
  /** The cluster's own status word (pinned, pin_queued, pin_error, cluster_error, remote, …). */
  status: Type.String(),
  state: PinPeerState,
  timestamp: Type.String(),
  error: Type.Optional(Type.String())
})
export type PeerPinStatus = Static<typeof PeerPinStatus>

export const ClusterPinView = Type.Object({
  cid: Type.String(),
  name: Type.String(),
  /** Peers the cluster allocated the pin to ([] = every peer). */
  allocations: Type.Array(Type.String()),
  peers: Type.Array(PeerPinStatus)
})
export type ClusterPinView = Static<typeof ClusterPinView>

export const ClusterPinResult = Type.Object({
  cid: Type.String(),
  name: Type.String(),
  /** Replicas required (replication_min, or every peer). */
  required: Type.Integer(),
  /** Peers that hold it pinned. */
  pinned: Type.Array(Type.String()),
  allocations: Type.Array(Type.String()),
  peers: Type.Array(PeerPinStatus),
  /** Registry ids whose entries now record the replicas. */
  models: Type.Array(Type.String())
})
export type ClusterPinResult = Static<typeof ClusterPinResult>

export const ClusterPeerStatus = Type.Object({
  id: Type.String(),
  peername: Type.String(),
  version: Type.String(),
  addresses: Type.Array(Type.String()),
  ipfs: Type.Object({
    id: Type.String(),
    addresses: Type.Array(Type.String()),
    /** The kubo version, when the peer's kubo could be asked (only its own peer's). */
    version: Type.Optional(Type.String()),
    error: Type.Optional(Type.String())
  }),
  /** The last free-space metric (bytes), if the cluster has one for this peer. */
  freeSpace: Type.Optional(Type.Number()),
  error: Type.Optional(Type.String())
})
export type ClusterPeerStatus = Static<typeof ClusterPeerStatus>

export const ClusterStatusView = Type.Object({
  url: Type.String(),
  /** The peer we asked. */
  self: Type.String(),
  version: Type.String(),
  peers: Type.Array(ClusterPeerStatus)
})
export type ClusterStatusView = Static<typeof ClusterStatusView>

/** Cluster pin progress, one event per peer state change and one per count change; `done` is guaranteed once. */
export const ClusterPinProgress = Type.Union([
  Type.Object({ type: Type.Literal('citrate:cluster:requested'), cid: Type.String(), allocations: Type.Array(Type.String()), required: Type.Integer() }),
  Type.Object({ type: Type.Literal('citrate:cluster:peer'), cid: Type.String(), peer: PeerPinStatus }),
  Type.Object({ type: Type.Literal('citrate:cluster:progress'), cid: Type.String(), pinned: Type.Integer(), required: Type.Integer() }),
  Type.Object({ type: Type.Literal('citrate:cluster:done'), cid: Type.String(), pinned: Type.Integer(), required: Type.Integer() })
])
export type ClusterPinProgress = Static<typeof ClusterPinProgress>

/** Pinning Service API statuses. */
export const REMOTE_PIN_STATUSES = ['queued', 'pinning', 'pinned', 'failed'] as const
export const RemotePinStatus = Type.Enum(REMOTE_PIN_STATUSES)
export type RemotePinStatus = Static<typeof RemotePinStatus>

export const RemotePinView = Type.Object({
  service: Type.String(),
  requestid: Type.String(),
  status: RemotePinStatus,
  created: Type.String(),
  cid: Type.String(),
  name: Type.Optional(Type.String()),
  /** Where the service will fetch from (multiaddrs it sent back). */
  delegates: Type.Array(Type.String()),
  /** The service's `info` object as strings. */
  info: Type.Optional(Type.Record(Type.String(), Type.String()))
})
export type RemotePinView = Static<typeof RemotePinView>

export const RemoteServiceView = Type.Object({
  name: Type.String(),
  endpoint: Type.String(),
  /** Whether an access token is stored (never the token). */
  hasToken: Type.Boolean()
})
export type RemoteServiceView = Static<typeof RemoteServiceView>

export const RemotePinProgress = Type.Object({
  service: Type.String(),
  cid: Type.String(),
  requestid: Type.String(),
  status: RemotePinStatus
})
export type RemotePinProgress = Static<typeof RemotePinProgress>
