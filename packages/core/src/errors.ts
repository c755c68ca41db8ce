/**
 * Every error the core throws is a CitrateError with a stable `code`, so the CLI,
 * the service and any UI can branch on the code and show the message.
 */
export class CitrateError extends Error {
  readonly code: string

  constructor (code: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }

  toJSON (): { code: string, message: string } {
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
    super('KUBO_TOO_OLD', `kubo at ${binary} is version ${found}; citrate-ipfs needs ${required} or newer (run \`citrate-ipfs install\`)`)
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
  constructor (message = 'the kubo daemon is not running (start it with `citrate-ipfs daemon start`)') {
    super('DAEMON_NOT_RUNNING', message)
  }
}

export class DaemonStopError extends CitrateError {
  constructor (message: string) { super('DAEMON_STOP_FAILED', message) }
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
  constructor (code: 'INSTALL_DOWNLOAD_FAILED' | 'INSTALL_CHECKSUM_MISMATCH' | 'INSTALL_ARCHIVE_INVALID' | 'INSTALL_FAILED', message: string, options?: ErrorOptions) {
    super(code, message, options)
  }
}

export class UnsupportedPlatformError extends CitrateError {
  constructor (message: string) { super('UNSUPPORTED_PLATFORM', message) }
}

export class InvalidArgumentError extends CitrateError {
  constructor (message: string) { super('INVALID_ARGUMENT', message) }
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
