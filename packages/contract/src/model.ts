/** A registry entry (`models/registry.json`) and the results of model commands. */
import { Type, type Static } from 'typebox'
import { MODEL_KINDS, MODEL_SOURCES } from './vocab.ts'

export { MODEL_KINDS, MODEL_SOURCES }

export const ModelKind = Type.Enum(MODEL_KINDS)
export type ModelKind = Static<typeof ModelKind>

/** How the content arrived: from the local daemon, from a gateway, or published from this machine. */
export const ModelSource = Type.Enum(MODEL_SOURCES)
export type ModelSource = Static<typeof ModelSource>

/** A registry entry: the seed's schema, plus `kind`. */
export const ModelEntry = Type.Object({
  /** A safe folder name (letters, digits and . _ + -). */
  id: Type.String({ minLength: 1 }),
  name: Type.String({ minLength: 1 }),
  cid: Type.String({ minLength: 1 }),
  size_bytes: Type.Integer({ minimum: 0 }),
  quantization: Type.Union([Type.String(), Type.Null()]),
  /** ISO 8601 time of download or publish. */
  downloaded_at: Type.String(),
  /** Where the content lives on disk (a file, or a folder for directory CIDs). */
  path: Type.String({ minLength: 1 }),
  source: ModelSource,
  source_url: Type.Union([Type.String(), Type.Null()]),
  verified: Type.Boolean(),
  kind: ModelKind,
  /** auto_pin wanted this pinned but the daemon could not pin it then; the next `daemon start` (or `pin --registered`) does. */
  pin_pending: Type.Optional(Type.Boolean())
})
export type ModelEntry = Static<typeof ModelEntry>

/** A re-verification: `ok`, or the problem found (a corrupt byte comes with its offset and file). */
export const VerifyOutcome = Type.Object({
  id: Type.String(),
  ok: Type.Boolean(),
  bytes: Type.Optional(Type.Integer()),
  method: Type.Optional(Type.String()),
  error: Type.Optional(Type.Object({
    code: Type.String(),
    message: Type.String(),
    offset: Type.Optional(Type.Integer()),
    path: Type.Optional(Type.String())
  }))
})
export type VerifyOutcome = Static<typeof VerifyOutcome>

export const RemoveModelResult = Type.Object({
  removed: ModelEntry,
  unpinned: Type.Boolean(),
  /** Why the pin was kept or could not be removed. */
  pinNote: Type.Optional(Type.String())
})
export type RemoveModelResult = Static<typeof RemoveModelResult>
