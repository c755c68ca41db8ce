/** Pins as clients see them: the list, a pin's result and its progress. */
import { Type, type Static } from 'typebox'

/** A pin of the local daemon, with the registry models whose content it protects. */
export const PinView = Type.Object({
  cid: Type.String(),
  type: Type.String(),
  name: Type.Optional(Type.String()),
  /** Registry ids this pin backs. */
  models: Type.Array(Type.String()),
  /** The DAG's cumulative size in bytes (kubo's files/stat), when it could be read. */
  size_bytes: Type.Optional(Type.Number())
})
export type PinView = Static<typeof PinView>

export const PinResult = Type.Object({
  cid: Type.String(),
  alreadyPinned: Type.Boolean(),
  blocks: Type.Integer(),
  bytes: Type.Optional(Type.Integer())
})
export type PinResult = Static<typeof PinResult>

export const UnpinResult = Type.Object({
  cid: Type.String(),
  /** Registry ids that relied on the pin (non-empty only when forced). */
  models: Type.Array(Type.String())
})
export type UnpinResult = Static<typeof UnpinResult>

/** Pin progress: `done: false` events are best effort (about twice a second); the `done: true` one is guaranteed. */
export const PinProgress = Type.Object({
  cid: Type.String(),
  blocks: Type.Integer(),
  bytes: Type.Optional(Type.Integer()),
  done: Type.Boolean()
})
export type PinProgress = Static<typeof PinProgress>

/** The empty UnixFS folder every kubo repo pins at init: not the user's content. */
export const KUBO_EMPTY_FOLDER_CID = 'QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn'
