/** Installing kubo: its progress events and its result. */
import { Type, type Static } from 'typebox'

/** Progress of an install, as core emits it (byte counts best-effort, `done` guaranteed). */
export const InstallProgressEvent = Type.Union([
  Type.Object({ type: Type.Literal('citrate:install:resolve'), version: Type.String(), url: Type.String() }),
  /** `totalBytes` is absent when the dist site sends no length. */
  Type.Object({ type: Type.Literal('citrate:install:download'), downloadedBytes: Type.Number(), totalBytes: Type.Optional(Type.Number()) }),
  Type.Object({ type: Type.Literal('citrate:install:verify'), algorithm: Type.Literal('sha512') }),
  Type.Object({ type: Type.Literal('citrate:install:extract') }),
  Type.Object({ type: Type.Literal('citrate:install:done'), path: Type.String(), version: Type.String() })
])
export type InstallProgressEvent = Static<typeof InstallProgressEvent>

/** What clients receive as `install-progress`: core's events, plus the service's report of a failed install. */
export const InstallProgress = Type.Union([
  ...InstallProgressEvent.anyOf,
  Type.Object({ type: Type.Literal('citrate:install:failed'), code: Type.String(), message: Type.String() })
])
export type InstallProgress = Static<typeof InstallProgress>

export const InstallResult = Type.Object({
  /** The installed binary. */
  path: Type.String(),
  version: Type.String(),
  /** Hex sha512 of the release archive, as checked against the dist site. */
  sha512: Type.String(),
  bytes: Type.Integer()
})
export type InstallResult = Static<typeof InstallResult>
