/**
 * The service's errors: its own codes (routing, the token, the request body)
 * and the one map from every code it can answer with to an HTTP status. The
 * map is a `Record`, so a code added to the vocabulary without a status here
 * fails the type-check instead of reaching a client as a 500.
 */
import { toCitrateError, type ErrorCode } from '@citrate-ipfs/core'
import type { ServiceErrorCode } from '@citrate-ipfs/contract'

/** A failure the service itself raises (as opposed to one of core's, passed through). */
export class ServiceError extends Error {
  readonly code: ServiceErrorCode
  constructor (code: ServiceErrorCode, message: string) {
    super(message)
    this.code = code
    this.name = 'ServiceError'
  }
}

/** Every code the service can put in an `{error:{code}}` answer. */
export type ServiceAnswerCode = ErrorCode | ServiceErrorCode

/**
 * 4xx: the request, or the content it names, is at fault, or it conflicts with
 * the current state (the caller can fix it); 502/503/504: an upstream (a
 * gateway, the kubo daemon, the kubo download site) failed or is not there;
 * 500: only our own faults and local state we cannot repair by ourselves.
 */
export const HTTP_STATUS: Record<ServiceAnswerCode, number> = {
  // The request is malformed.
  BAD_REQUEST: 400,
  INVALID_ARGUMENT: 400,
  INVALID_CID: 400,
  INVALID_MODEL_ID: 400,
  INVALID_JSON: 400,
  CONFIG_INVALID: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN_HOST: 403,
  FORBIDDEN_ORIGIN: 403,
  NOT_FOUND: 404,
  UNKNOWN_COMMAND: 404,
  NO_UI: 404,
  MODEL_NOT_FOUND: 404,
  PATH_NOT_FOUND: 404,
  CONTENT_NOT_FOUND: 404,
  NOT_PINNED: 404,
  METHOD_NOT_ALLOWED: 405,
  BODY_TOO_LARGE: 413,
  OBJECT_TOO_LARGE: 413,
  // Well-formed, but the content the CID names is refused: not ours to download or verify safely.
  UNSUPPORTED: 422,
  UNSAFE_NAME: 422,
  INVALID_DAG: 422,
  VERIFY_UNSUPPORTED: 422,
  // Conflicts with the current state: the caller can change that state and try again.
  KUBO_NOT_INSTALLED: 409,
  KUBO_TOO_OLD: 409,
  KUBO_BINARY_UNUSABLE: 409,
  DAEMON_DISABLED: 409,
  DAEMON_PORT_IN_USE: 409,
  REPO_LOCKED: 409,
  REGISTRY_LOCKED: 409,
  PIN_IN_USE: 409,
  TARGET_EXISTS: 409,
  TOO_MANY_PULLS: 409,
  SIZE_LIMIT_EXCEEDED: 409,
  ABORTED: 409,
  CONTENT_CORRUPT: 409,
  CONTENT_MISMATCH: 409,
  DAG_INDEX_CORRUPT: 409,
  DAG_INDEX_MISSING: 409,
  // An upstream answered badly: gateways, kubo's RPC, the kubo download site.
  ALL_SOURCES_FAILED: 502,
  SOURCE_FAILED: 502,
  BLOCK_MISMATCH: 502,
  CID_MISMATCH: 502,
  KUBO_RPC_ERROR: 502,
  DAEMON_STOP_FAILED: 502,
  INSTALL_DOWNLOAD_FAILED: 502,
  INSTALL_CHECKSUM_MISMATCH: 502,
  INSTALL_ARCHIVE_INVALID: 502,
  // The kubo daemon is not there to answer.
  DAEMON_NOT_RUNNING: 503,
  DAEMON_DIED: 503,
  DAEMON_START_FAILED: 503,
  // An upstream did not answer in time.
  TIMEOUT: 504,
  PIN_TIMEOUT: 504,
  DAEMON_START_TIMEOUT: 504,
  // No kubo release for this machine: the service cannot do this here at all.
  UNSUPPORTED_PLATFORM: 501,
  // This machine's disk, files or our own state; the user must look at the machine.
  DISK_FULL: 507,
  PERMISSION_DENIED: 500,
  REGISTRY_CORRUPT: 500,
  REGISTRY_VERSION_UNSUPPORTED: 500,
  KUBO_REPO_CONFIG_INVALID: 500,
  INTERNAL: 500
}

export function httpStatusFor (code: ServiceAnswerCode): number {
  return HTTP_STATUS[code]
}

/** Anything thrown, as the `{code, message}` a client receives. */
export function toAnswerError (err: unknown): { code: ServiceAnswerCode, message: string } {
  if (err instanceof ServiceError) return { code: err.code, message: err.message }
  const e = toCitrateError(err)
  return { code: e.code, message: e.message }
}
