/**
 * Every error the core throws is a CitrateError with a stable `code` from the
 * one vocabulary (`ErrorCode`, defined in @citrate-ipfs/contract), so the CLI,
 * the service and any UI can branch on the code and show the message.
 *
 * Messages describe the situation only: what failed and why, in terms of
 * CIDs, files and config keys. They never name a CLI flag or command, because
 * the same message reaches the UI; the CLI and the UI add their own hints
 * (flags for one, buttons for the other), keyed by code.
 */
import type { ErrorCode } from '@citrate-ipfs/contract'
import { formatBytes } from '@citrate-ipfs/contract/plain'

export type { ErrorCode } from '@citrate-ipfs/contract'

export class CitrateError extends Error {
  readonly code: ErrorCode

  constructor (code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }

  toJSON (): { code: ErrorCode, message: string } {
    return { code: this.code, message: this.message }
  }
}

export class ConfigError extends CitrateError {
  readonly key: string | undefined
  constructor (message: string, key?: string, options?: ErrorOptions) {
    super('CONFIG_INVALID', message, options)
    this.key = key
  }
}

export class KuboNotInstalledError extends CitrateError {
  constructor (message: string) { super('KUBO_NOT_INSTALLED', message) }
}

export class KuboTooOldError extends CitrateError {
  readonly found: string
  readonly required: string
  constructor (binary: string, found: string, required: string) {
    super('KUBO_TOO_OLD', `kubo at ${binary} is version ${found}; citrate-ipfs needs ${required} or newer`)
    this.found = found
    this.required = required
  }
}

export class KuboBinaryError extends CitrateError {
  constructor (message: string, options?: ErrorOptions) { super('KUBO_BINARY_UNUSABLE', message, options) }
}

export class DaemonPortInUseError extends CitrateError {
  readonly port: number
  readonly suggestedPort: number | undefined
  constructor (role: 'api' | 'gateway', port: number, suggestedPort?: number) {
    const key = role === 'api' ? 'api_port' : 'gateway_port'
    super('DAEMON_PORT_IN_USE', `port ${port} (${key}) is already in use by another process` +
      (suggestedPort != null ? `; set ${key} = ${suggestedPort} in citrate.toml (that port is free)` : ''))
    this.port = port
    this.suggestedPort = suggestedPort
  }
}

export class RepoLockedError extends CitrateError {
  constructor (repo: string) {
    super('REPO_LOCKED', `the kubo repo at ${repo} is locked by another process that is not serving its API; stop that process (or wait for it) and try again`)
  }
}

export class DaemonStartError extends CitrateError {
  readonly logTail: string
  constructor (message: string, logTail = '', options?: ErrorOptions) {
    super('DAEMON_START_FAILED', message, options)
    this.logTail = logTail
  }
}

export class DaemonStartTimeoutError extends CitrateError {
  constructor (seconds: number, logPath: string) {
    super('DAEMON_START_TIMEOUT', `kubo did not answer on its API within ${seconds} s; see ${logPath}`)
  }
}

export class DaemonNotRunningError extends CitrateError {
  constructor (message = 'the kubo daemon is not running') {
    super('DAEMON_NOT_RUNNING', message)
  }
}

export class DaemonDisabledError extends CitrateError {
  constructor (configFile: string) {
    super('DAEMON_DISABLED', `the local daemon is disabled (daemon_enabled = false in ${configFile}); set it to true to start kubo`)
  }
}

export class DaemonStopError extends CitrateError {
  constructor (message: string) { super('DAEMON_STOP_FAILED', message) }
}

export class KuboRepoConfigError extends CitrateError {
  constructor (file: string, detail: string, options?: ErrorOptions) {
    super('KUBO_REPO_CONFIG_INVALID', `kubo's repo config ${file} is unreadable (${detail}); fix it, or move the repo aside to start afresh`, options)
  }
}

export class KuboRpcError extends CitrateError {
  readonly status: number | undefined
  constructor (message: string, status?: number, options?: ErrorOptions) {
    super('KUBO_RPC_ERROR', message, options)
    this.status = status
  }
}

export class TimeoutError extends CitrateError {
  constructor (what: string, ms: number) { super('TIMEOUT', `${what} timed out after ${formatMs(ms)}`) }
}

export class AbortedError extends CitrateError {
  constructor (what = 'operation') { super('ABORTED', `${what} was cancelled`) }
}

export class InstallError extends CitrateError {
  constructor (code: Extract<ErrorCode, `INSTALL_${string}`>, message: string, options?: ErrorOptions) {
    super(code, message, options)
  }
}

export class UnsupportedPlatformError extends CitrateError {
  constructor (message: string) { super('UNSUPPORTED_PLATFORM', message) }
}

export class InvalidArgumentError extends CitrateError {
  constructor (message: string) { super('INVALID_ARGUMENT', message) }
}

// -- fetch (verified download by CID) --

/** Content we cannot download correctly (an unknown hash function, codec or UnixFS type): refused, never guessed. */
export class UnsupportedContentError extends CitrateError {
  readonly what: string
  constructor (what: string) {
    super('UNSUPPORTED', `unsupported content: ${what}`)
    this.what = what
  }
}

/** A model file's header (GGUF, safetensors) that is malformed, truncated or hostile: refused after a bounded read, never guessed. */
export class ModelHeaderError extends CitrateError {
  readonly file: string
  constructor (format: 'gguf' | 'safetensors', file: string, problem: string, options?: ErrorOptions) {
    super('UNSUPPORTED', `not a readable ${format === 'gguf' ? 'GGUF' : 'safetensors'} header in ${file}: ${problem}`, options)
    this.file = file
  }
}

export class InvalidCidError extends CitrateError {
  constructor (input: string, reason: string) { super('INVALID_CID', `"${input}" is not a valid CID: ${reason}`) }
}

/** What a user pasted to name content is neither a CID nor an IPFS path or link (ipld/content-path.ts). */
export class InvalidContentPathError extends CitrateError {
  readonly input: string
  constructor (input: string, reason: string) {
    super('INVALID_CID', `${JSON.stringify(input.trim())} is not a valid CID or IPFS path: ${reason}. What works: a CID (bafy… or Qm…), <cid>/folder/model.gguf, /ipfs/<cid>/…, ipfs://<cid>/…, or a gateway link https://<gateway>/ipfs/<cid>/… or https://<cid>.ipfs.<gateway>/…`)
    this.input = input
  }
}

/** A content path (`<cid>/a/b`) names an entry its folder does not have. */
export class PathNotFoundError extends CitrateError {
  readonly path: string
  readonly segment: string
  constructor (path: string, segment: string, why: string) {
    super('PATH_NOT_FOUND', `${path} has no ${JSON.stringify(segment)}: ${why}`)
    this.path = path
    this.segment = segment
  }
}

/** A block whose bytes do not hash to its CID (or an oversized / malformed block) from a source. */
export class BlockVerificationError extends CitrateError {
  readonly cid: string
  readonly expected: string
  readonly actual: string
  constructor (cid: string, expected: string, actual: string) {
    super('BLOCK_MISMATCH', `block ${cid} failed verification: expected ${expected}, got ${actual}`)
    this.cid = cid
    this.expected = expected
    this.actual = actual
  }
}

/** The DAG itself is inconsistent (sizes that do not add up, a directory where a file was expected, …). */
export class InvalidDagError extends CitrateError {
  constructor (message: string) { super('INVALID_DAG', message) }
}

/** A directory entry name that could escape its folder or is not portable. */
export class UnsafeNameError extends CitrateError {
  readonly entryName: string
  /** Why the name was refused, in words (the message without the name). */
  readonly reason: string
  constructor (entryName: string, why: string) {
    super('UNSAFE_NAME', `refusing entry name ${JSON.stringify(entryName)}: ${why}`)
    this.entryName = entryName
    this.reason = why
  }
}

/**
 * A source failure, classified once by net/classify.ts. `permanent` ones (a
 * bad block, a non-trustless answer, 404) drop the source for the rest of the
 * pull; transient ones (5xx, a stall, a reset connection) are retried
 * elsewhere while the source cools down (net/health.ts).
 */
export class SourceRequestError extends CitrateError {
  readonly permanent: boolean
  /** The rest the source asked for with `Retry-After` on a 429/503, ms (net/classify.ts retryAfterMs). */
  readonly retryAfterMs: number | undefined
  /** The connection was reset or closed under the request: flakiness, not a sign of asking too much. */
  readonly connectionLost: boolean
  constructor (message: string, permanent: boolean, options?: ErrorOptions & { retryAfterMs?: number, connectionLost?: boolean }) {
    super('SOURCE_FAILED', message, options)
    this.permanent = permanent
    this.retryAfterMs = options?.retryAfterMs
    this.connectionLost = options?.connectionLost ?? false
  }
}

/**
 * No connection, or no first response byte, within the source's first-byte
 * timeout (a few seconds, far shorter than the stall timeout): the fetcher
 * sets the source aside and tells the user at once ("not answering").
 */
export class SourceNotAnsweringError extends SourceRequestError {
  constructor (message: string, options?: ErrorOptions) {
    super(message, false, options)
  }
}

/** The source does not serve byte ranges the way we need; use CAR requests with it instead. */
export class RangeUnsupportedError extends CitrateError {
  constructor (message: string) {
    super('SOURCE_FAILED', message)
  }
}

/** One source's failure during a pull; kept so the user can see why each source was dropped. */
export interface SourceFailure { source: string, reason: string }

export class AllSourcesFailedError extends CitrateError {
  readonly failures: SourceFailure[]
  constructor (cid: string, failures: SourceFailure[]) {
    super('ALL_SOURCES_FAILED', `no source could provide ${cid}` +
      (failures.length > 0 ? `: ${failures.map(f => `${f.source}: ${f.reason}`).join('; ')}` : ' (no sources configured)'))
    this.failures = failures
  }
}

export class SizeLimitError extends CitrateError {
  readonly size: number
  readonly limit: number
  constructor (size: number, limit: number, declared: boolean) {
    super('SIZE_LIMIT_EXCEEDED', `${declared ? 'declared size' : 'downloaded size'} ${size} bytes exceeds max_model_size_gb (${limit} bytes)`)
    this.size = size
    this.limit = limit
  }
}

/** No source has the content a CID names, or a path inside it names nothing (every source said "not found"). */
export class ContentNotFoundError extends CitrateError {
  constructor (message: string) { super('CONTENT_NOT_FOUND', message) }
}

/** An object asked for (get) or given (put) is over the cap set for it. */
export class ObjectTooLargeError extends CitrateError {
  readonly size: number | undefined
  readonly limit: number
  constructor (what: string, limit: number, size?: number) {
    super('OBJECT_TOO_LARGE', `${what} is ${size != null ? `${size} bytes, ` : ''}over the limit of ${limit} bytes`)
    this.size = size
    this.limit = limit
  }
}

export class TargetExistsError extends CitrateError {
  readonly path: string
  constructor (path: string) {
    super('TARGET_EXISTS', `${path} already exists`)
    this.path = path
  }
}

/** Not enough free space where bytes must go: names the place, what is needed and what is free. */
export class DiskFullError extends CitrateError {
  readonly path: string
  readonly neededBytes: number
  readonly freeBytes: number
  constructor (path: string, neededBytes: number, freeBytes: number, opts?: { cause?: unknown }) {
    super('DISK_FULL', `not enough space on ${path}: ${formatBytes(neededBytes)} needed, ${formatBytes(freeBytes)} free`, opts)
    this.path = path
    this.neededBytes = neededBytes
    this.freeBytes = freeBytes
  }
}

export class TooManyPullsError extends CitrateError {
  constructor (limit: number) { super('TOO_MANY_PULLS', `${limit} pulls are already running; wait for one to finish`) }
}

function formatMs (ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`
}

/** Wraps anything thrown into a CitrateError so callers always see `{code, message}`. */
export function toCitrateError (err: unknown): CitrateError {
  if (err instanceof CitrateError) return err
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOSPC') return new CitrateError('DISK_FULL', `no space left on device: ${err.message}`, { cause: err })
    if (code === 'EACCES' || code === 'EPERM') return new CitrateError('PERMISSION_DENIED', err.message, { cause: err })
    if (err.name === 'AbortError') return new AbortedError()
    return new CitrateError('INTERNAL', err.message, { cause: err })
  }
  return new CitrateError('INTERNAL', String(err))
}

// -- registry, publish, pins, verify (issue 4) --

export class InvalidModelIdError extends CitrateError {
  readonly id: string
  constructor (id: string, reason: string) {
    super('INVALID_MODEL_ID', `invalid model id ${JSON.stringify(id)}: ${reason}`)
    this.id = id
  }
}

export class ModelNotFoundError extends CitrateError {
  readonly id: string
  constructor (id: string) {
    super('MODEL_NOT_FOUND', `no model with id ${JSON.stringify(id)} in the registry`)
    this.id = id
  }
}

/** registry.json does not parse or breaks the schema; a copy of the bad file is kept at `backupPath`. */
export class RegistryCorruptError extends CitrateError {
  readonly file: string
  /** The JSON path of the first field at fault, e.g. `models[2].cid`; `(file)` when it does not parse. */
  readonly field: string
  readonly backupPath: string | undefined
  constructor (file: string, field: string, problem: string, backupPath: string | undefined, options?: ErrorOptions) {
    super('REGISTRY_CORRUPT', `model registry ${file} is invalid at ${field}: ${problem}` +
      (backupPath != null ? `; a copy is kept at ${backupPath} (fix or remove ${file} to continue)` : ''), options)
    this.file = file
    this.field = field
    this.backupPath = backupPath
  }
}

export class RegistryVersionError extends CitrateError {
  readonly version: string
  constructor (file: string, version: string, supported: string) {
    super('REGISTRY_VERSION_UNSUPPORTED', `model registry ${file} has schema version ${version}, newer than this citrate-ipfs understands (${supported}); upgrade citrate-ipfs`)
    this.version = version
  }
}

export class RegistryLockError extends CitrateError {
  constructor (file: string, options?: ErrorOptions) {
    super('REGISTRY_LOCKED', `could not lock the model registry ${file}: another process holds it`, options)
  }
}

/** What kubo stored differs from what we computed locally for the same options. */
export class CidMismatchError extends CitrateError {
  readonly expected: string
  readonly actual: string
  constructor (what: string, expected: string, actual: string) {
    super('CID_MISMATCH', `${what}: expected CID ${expected} but got ${actual}`)
    this.expected = expected
    this.actual = actual
  }
}

export class PinTimeoutError extends CitrateError {
  readonly cid: string
  constructor (cid: string, seconds: number) {
    super('PIN_TIMEOUT', `pinning ${cid} did not finish within ${seconds} s (pin_timeout_seconds); nothing was left pinned`)
    this.cid = cid
  }
}

/** Unpinning would expose registry models to garbage collection. */
export class PinInUseError extends CitrateError {
  readonly cid: string
  readonly models: string[]
  constructor (cid: string, models: string[]) {
    super('PIN_IN_USE', `${cid} backs registry model(s) ${models.join(', ')}; unpinning it would leave them to garbage collection`)
    this.cid = cid
    this.models = models
  }
}

/** An unpin of a CID that has no recursive pin of its own (never pinned, or only pinned indirectly by another). */
export class NotPinnedError extends CitrateError {
  readonly cid: string
  constructor (cid: string, options?: ErrorOptions) {
    super('NOT_PINNED', `${cid} is not pinned (or only indirectly, as part of another pin)`, options)
    this.cid = cid
  }
}

/** Stored bytes no longer hash to the recorded CID (bit rot, truncation, edits). */
export class ContentCorruptError extends CitrateError {
  readonly id: string
  /** Offset of the first byte of the first block that fails, within the file named by `path`. */
  readonly offset: number
  readonly path: string
  constructor (id: string, path: string, offset: number, detail: string) {
    super('CONTENT_CORRUPT', `model ${id}: ${path} does not match its CID from byte offset ${offset}: ${detail}`)
    this.id = id
    this.offset = offset
    this.path = path
  }
}

export class DagIndexError extends CitrateError {
  constructor (code: Extract<ErrorCode, `DAG_INDEX_${string}`>, message: string, options?: ErrorOptions) { super(code, message, options) }
}

export class VerifyUnsupportedError extends CitrateError {
  constructor (message: string) { super('VERIFY_UNSUPPORTED', message) }
}

/** No DAG index to locate damage, and re-hashing with kubo's standard shapes does not give the CID. */
export class ContentMismatchError extends CitrateError {
  readonly id: string
  constructor (id: string, expected: string, tried: string[]) {
    super('CONTENT_MISMATCH', `model ${id}: no DAG index was recorded, and re-hashing with kubo's standard import shapes gives ${tried.join(', ')}, not ${expected}: the content is damaged or was made with other options`)
    this.id = id
  }
}
