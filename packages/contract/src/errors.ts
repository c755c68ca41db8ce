/**
 * The error vocabulary: every `code` a caller of citrate-ipfs can see, in one
 * place. Core's `CitrateError` takes only `ErrorCode`; the service's HTTP
 * status map, the CLI's exit codes and the UI's explanations are `Record`s
 * over these unions, so the type-check fails when a new code has no entry in
 * any of them (instead of falling through to a 500 or a generic message).
 *
 * The layers add codes of their own on top of core's, each a separate list so
 * a layer cannot raise another's: the service (routing, auth, the request
 * body), the client (the service unreachable, a broken answer) and the CLI
 * (bad usage). `WireErrorCode` is what a client of the service can see.
 */

/** The codes core raises (thrown as `CitrateError`s, or reported in a daemon status). */
export const ERROR_CODES = [
  'ABORTED', 'ALL_SOURCES_FAILED', 'BLOCK_MISMATCH', 'CID_MISMATCH', 'CONFIG_INVALID', 'CONTENT_CORRUPT', 'CONTENT_MISMATCH', 'CONTENT_NOT_FOUND',
  'DAEMON_DIED', 'DAEMON_DISABLED', 'DAEMON_NOT_RUNNING', 'DAEMON_PORT_IN_USE', 'DAEMON_START_FAILED', 'DAEMON_START_TIMEOUT', 'DAEMON_STOP_FAILED',
  'DAG_INDEX_CORRUPT', 'DAG_INDEX_MISSING', 'DISK_FULL',
  'INSTALL_ARCHIVE_INVALID', 'INSTALL_CHECKSUM_MISMATCH', 'INSTALL_DOWNLOAD_FAILED',
  'INTERNAL', 'INVALID_ARGUMENT', 'INVALID_CID', 'INVALID_DAG', 'INVALID_MODEL_ID',
  'KUBO_BINARY_UNUSABLE', 'KUBO_NOT_INSTALLED', 'KUBO_REPO_CONFIG_INVALID', 'KUBO_RPC_ERROR', 'KUBO_TOO_OLD',
  'MODEL_NOT_FOUND', 'NOT_PINNED', 'OBJECT_TOO_LARGE', 'PATH_NOT_FOUND', 'PERMISSION_DENIED', 'PIN_IN_USE', 'PIN_TIMEOUT',
  'REGISTRY_CORRUPT', 'REGISTRY_LOCKED', 'REGISTRY_VERSION_UNSUPPORTED', 'REPO_LOCKED',
  'SIZE_LIMIT_EXCEEDED', 'SOURCE_FAILED', 'TARGET_EXISTS', 'TIMEOUT', 'TOO_MANY_PULLS',
  'UNSAFE_NAME', 'UNSUPPORTED', 'UNSUPPORTED_PLATFORM', 'VERIFY_UNSUPPORTED'
] as const

/** A code core raises. */
export type ErrorCode = typeof ERROR_CODES[number]

/** The codes the service answers with itself, before a command runs (routing, the token, the request; BAD_REQUEST: an HTTP request it cannot parse). */
export const SERVICE_ERROR_CODES = [
  'BAD_REQUEST', 'BODY_TOO_LARGE', 'FORBIDDEN_HOST', 'FORBIDDEN_ORIGIN', 'INVALID_JSON', 'METHOD_NOT_ALLOWED',
  'NO_UI', 'NOT_FOUND', 'UNAUTHORIZED', 'UNKNOWN_COMMAND'
] as const

/** A code only the service produces. */
export type ServiceErrorCode = typeof SERVICE_ERROR_CODES[number]

/** The codes the client produces when there is no `{error:{code}}` answer to pass on. */
export const CLIENT_ERROR_CODES = ['BAD_RESPONSE', 'EVENTS_UNAVAILABLE', 'HTTP_ERROR', 'SERVICE_UNREACHABLE'] as const

/** A code only the client produces. */
export type ClientErrorCode = typeof CLIENT_ERROR_CODES[number]

/** The codes only the CLI produces (never on the wire). */
export const CLI_ERROR_CODES = ['USAGE'] as const

/** A code only the CLI produces. */
export type CliErrorCode = typeof CLI_ERROR_CODES[number]

/** Every code a client of the service can see: core's through a command, the service's own, the client's own. */
export type WireErrorCode = ErrorCode | ServiceErrorCode | ClientErrorCode

/** Every code in `WireErrorCode`, for runtime checks. */
export const WIRE_ERROR_CODES: readonly WireErrorCode[] = [...ERROR_CODES, ...SERVICE_ERROR_CODES, ...CLIENT_ERROR_CODES]

const coreCodes: ReadonlySet<string> = new Set(ERROR_CODES)
const wireCodes: ReadonlySet<string> = new Set(WIRE_ERROR_CODES)

/** True for a code core raises. */
export function isErrorCode (code: unknown): code is ErrorCode {
  return typeof code === 'string' && coreCodes.has(code)
}

/** True for a code a client can see; anything else (a newer service's code) is shown as a generic failure. */
export function isWireErrorCode (code: unknown): code is WireErrorCode {
  return typeof code === 'string' && wireCodes.has(code)
}
