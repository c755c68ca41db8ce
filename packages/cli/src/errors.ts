/**
 * How the CLI answers an error: the exit code a script branches on, and the
 * hint a person reads next (the flags and commands that fix it, which core's
 * messages never name, since the same messages reach the UI). Both maps are
 * over the whole vocabulary, so a new code without an exit code fails the
 * type-check.
 */
import { ContentCorruptError, ContentMismatchError, PinInUseError, toCitrateError, type ErrorCode } from '@citrate-ipfs/core'
import type { CliErrorCode } from '@citrate-ipfs/contract'

/** Bad usage of the command line itself (an unknown command or option). */
export class UsageError extends Error {
  readonly code: CliErrorCode = 'USAGE'
  constructor (message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

/**
 * A command stopped by Ctrl-C (or SIGTERM) that keeps its work: not a failure,
 * so its message is said as it is (no `error:`), and the exit code is the
 * shell's 128 + signal number.
 */
export class InterruptedError extends Error {
  readonly code = 'ABORTED' as const
  readonly exitCode: number
  constructor (message: string, signal: NodeJS.Signals) {
    super(message)
    this.name = 'InterruptedError'
    this.exitCode = signal === 'SIGTERM' ? 143 : 130
  }
}

/** Every code the CLI can end with. */
export type CliAnswerCode = ErrorCode | CliErrorCode

/** An error as the CLI reports it. */
export interface CliError { code: CliAnswerCode, message: string, cause: unknown }

export function toCliError (err: unknown): CliError {
  if (err instanceof UsageError || err instanceof InterruptedError) return { code: err.code, message: err.message, cause: err }
  const e = toCitrateError(err)
  return { code: e.code, message: e.message, cause: err }
}

const USAGE = 2
const KUBO_MISSING = 3
const NO_DAEMON = 4
const FAILURE = 1

/**
 * Distinct exit codes only where a script would branch: 2 fix the command line
 * (a malformed argument, CID or model id) or the config, 3 install kubo first, 4 start the daemon first; 1 for
 * everything else (the message and `--json`'s code tell them apart).
 */
export const EXIT_CODES: Record<CliAnswerCode, number> = {
  USAGE,
  INVALID_ARGUMENT: USAGE,
  CONFIG_INVALID: USAGE,
  KUBO_NOT_INSTALLED: KUBO_MISSING,
  KUBO_TOO_OLD: KUBO_MISSING,
  DAEMON_NOT_RUNNING: NO_DAEMON,
  ABORTED: FAILURE,
  ALL_SOURCES_FAILED: FAILURE,
  BLOCK_MISMATCH: FAILURE,
  CID_MISMATCH: FAILURE,
  CONTENT_CORRUPT: FAILURE,
  CONTENT_MISMATCH: FAILURE,
  DAEMON_DIED: FAILURE,
  DAEMON_DISABLED: FAILURE,
  DAEMON_PORT_IN_USE: FAILURE,
  DAEMON_START_FAILED: FAILURE,
  DAEMON_START_TIMEOUT: FAILURE,
  DAEMON_STOP_FAILED: FAILURE,
  DAG_INDEX_CORRUPT: FAILURE,
  DAG_INDEX_MISSING: FAILURE,
  DISK_FULL: FAILURE,
  INSTALL_ARCHIVE_INVALID: FAILURE,
  INSTALL_CHECKSUM_MISMATCH: FAILURE,
  INSTALL_DOWNLOAD_FAILED: FAILURE,
  INTERNAL: FAILURE,
  INVALID_CID: USAGE,
  INVALID_DAG: FAILURE,
  INVALID_MODEL_ID: USAGE,
  KUBO_BINARY_UNUSABLE: FAILURE,
  KUBO_REPO_CONFIG_INVALID: FAILURE,
  KUBO_RPC_ERROR: FAILURE,
  MODEL_NOT_FOUND: FAILURE,
  CONTENT_NOT_FOUND: FAILURE,
  OBJECT_TOO_LARGE: FAILURE,
  NOT_PINNED: FAILURE,
  PATH_NOT_FOUND: FAILURE,
  PERMISSION_DENIED: FAILURE,
  PIN_IN_USE: FAILURE,
  PIN_TIMEOUT: FAILURE,
  REGISTRY_CORRUPT: FAILURE,
  REGISTRY_LOCKED: FAILURE,
  REGISTRY_VERSION_UNSUPPORTED: FAILURE,
  REPO_LOCKED: FAILURE,
  SIZE_LIMIT_EXCEEDED: FAILURE,
  SOURCE_FAILED: FAILURE,
  TARGET_EXISTS: FAILURE,
  TIMEOUT: FAILURE,
  TOO_MANY_PULLS: FAILURE,
  UNSAFE_NAME: FAILURE,
  UNSUPPORTED: FAILURE,
  UNSUPPORTED_PLATFORM: FAILURE,
  VERIFY_UNSUPPORTED: FAILURE
}

export function exitCodeFor (code: CliAnswerCode): number {
  return EXIT_CODES[code]
}

type Hint = string | ((cause: unknown) => string)

const INSTALL = 'run `citrate-ipfs install` to get a supported kubo'
const LOGS = "see kubo's log with `citrate-ipfs daemon logs`"

/** The next step, in CLI terms, for the codes where there is one a person can take. */
export const HINTS: Partial<Record<CliAnswerCode, Hint>> = {
  KUBO_NOT_INSTALLED: 'run `citrate-ipfs install`, or set daemon_path in citrate.toml to a kubo you have',
  KUBO_TOO_OLD: INSTALL,
  KUBO_BINARY_UNUSABLE: INSTALL,
  DAEMON_NOT_RUNNING: 'start it with `citrate-ipfs daemon start`',
  DAEMON_DIED: `${LOGS}, then start it again with \`citrate-ipfs daemon start\``,
  DAEMON_START_FAILED: LOGS,
  DAEMON_START_TIMEOUT: `${LOGS}; a first start after an upgrade can take longer`,
  INSTALL_DOWNLOAD_FAILED: 'check the network, or download from a mirror with --dist-url <url>',
  INSTALL_CHECKSUM_MISMATCH: 'try again; if it keeps failing, try a mirror with --dist-url <url>',
  INSTALL_ARCHIVE_INVALID: 'try again, or a mirror with --dist-url <url>',
  UNSUPPORTED_PLATFORM: 'install kubo yourself and set daemon_path in citrate.toml',
  ALL_SOURCES_FAILED: 'start the daemon (`citrate-ipfs daemon start`) or set a gateway (`citrate-ipfs gateway set <url>`), then run the same pull again: verified parts are kept',
  TARGET_EXISTS: 'choose another --name, or remove the existing model first (`citrate-ipfs models rm <id>`)',
  PIN_IN_USE: (cause) => cause instanceof PinInUseError && cause.models.length > 0
    ? `pass --force to unpin anyway, or remove the model first (\`citrate-ipfs models rm ${cause.models[0] ?? '<id>'}\`)`
    : 'pass --force to unpin anyway',
  PIN_TIMEOUT: 'allow longer with --timeout <seconds>',
  SIZE_LIMIT_EXCEEDED: 'raise max_model_size_gb in citrate.toml if you trust this content',
  CONTENT_CORRUPT: (cause) => `remove the model (\`citrate-ipfs models rm ${modelId(cause)}\`) and pull it again`,
  CONTENT_MISMATCH: (cause) => `remove the model (\`citrate-ipfs models rm ${modelId(cause)}\`) and pull it again`,
  DAG_INDEX_CORRUPT: 'pull or add the model again to rebuild its DAG index',
  DAG_INDEX_MISSING: 'pull or add the model again to record its DAG index',
  MODEL_NOT_FOUND: 'list the registered models with `citrate-ipfs models`',
  CONTENT_NOT_FOUND: 'check the CID and path; start the daemon (`citrate-ipfs daemon start`) or set a gateway (`citrate-ipfs gateway set <url>`) that has it',
  OBJECT_TOO_LARGE: 'raise the cap with --max-bytes N if you trust the content, or move large content with `citrate-ipfs pull` / `citrate-ipfs add`',
  NOT_PINNED: 'list the pins with `citrate-ipfs pins`',
  PATH_NOT_FOUND: 'check the path: `ipfs ls <cid>` lists a folder\'s entries',
  TOO_MANY_PULLS: 'wait for a pull to finish, then run this one again'
}

function modelId (cause: unknown): string {
  return cause instanceof ContentCorruptError || cause instanceof ContentMismatchError ? cause.id : '<id>'
}

/** The hint for an error, if there is one. */
export function hintFor (e: CliError): string | undefined {
  const hint = HINTS[e.code]
  return typeof hint === 'function' ? hint(e.cause) : hint
}
