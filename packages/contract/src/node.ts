/** The node at a glance, as IPFS Desktop shows it: peers, storage, bandwidth and the daemon's log. */
import { Type, type Static } from 'typebox'

/** One bandwidth sample: kubo's rates (bytes per second) at a time (ms since the epoch). */
export const BandwidthSample = Type.Object({
  at: Type.Number(),
  rate_in: Type.Number(),
  rate_out: Type.Number()
})
export type BandwidthSample = Static<typeof BandwidthSample>

export const NodeStats = Type.Object({
  running: Type.Boolean(),
  /** Whether kubo runs without network routing (`offline = true`): no peers, no network traffic. */
  offline: Type.Boolean(),
  /** Connected peers (absent when the daemon is not running or cannot say). */
  peers: Type.Optional(Type.Integer({ minimum: 0 })),
  /** kubo's repo: bytes stored and its configured limit (`Datastore.StorageMax`). */
  repo: Type.Optional(Type.Object({ size_bytes: Type.Number(), storage_max_bytes: Type.Optional(Type.Number()), path: Type.String() })),
  /** Space on the disk that holds the repo. */
  disk: Type.Optional(Type.Object({ free_bytes: Type.Number(), total_bytes: Type.Number() })),
  /** kubo's bandwidth totals and current rates (bytes, bytes per second; from /api/v0/stats/bw). */
  bandwidth: Type.Optional(Type.Object({ total_in: Type.Number(), total_out: Type.Number(), rate_in: Type.Number(), rate_out: Type.Number() })),
  /** The service's recent samples of kubo's rates, oldest first (one per call, at most 120), for a live chart. */
  history: Type.Array(BandwidthSample),
  /** The last lines of the daemon's log. */
  log_tail: Type.String(),
  /** What could not be read, in words (e.g. "peers: this action must be run in online mode"). */
  notes: Type.Array(Type.String())
})
export type NodeStats = Static<typeof NodeStats>
