/** Publishing a file or folder of this machine to the local kubo (pinned): its result and progress. */
import { Type, type Static } from 'typebox'

export const PublishView = Type.Object({
  /** The root CID: the same as `ipfs add` with kubo's defaults. */
  cid: Type.String(),
  path: Type.String(),
  root_name: Type.String(),
  /** Content bytes (the sum of the file sizes). */
  size_bytes: Type.Number(),
  is_directory: Type.Boolean(),
  blocks: Type.Integer({ minimum: 0 }),
  /** Always true: what is published is pinned, so kubo's garbage collection keeps it. */
  pinned: Type.Boolean()
})
export type PublishView = Static<typeof PublishView>

/** Publish progress by path: `done: false` events are best effort (about five a second); the last one, with the CID, is guaranteed. */
export const PublishProgress = Type.Object({
  path: Type.String(),
  bytes: Type.Number(),
  total_bytes: Type.Number(),
  done: Type.Boolean(),
  cid: Type.Optional(Type.String())
})
export type PublishProgress = Static<typeof PublishProgress>
