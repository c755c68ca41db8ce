/**
 * The debug channel. Core never prints; it logs to namespaced loggers
 * (`citrate:fetch`, `citrate:daemon`, …) from the `debug` package, silent
 * unless switched on: `DEBUG=citrate:*` in the environment, or
 * `enableLogging('citrate:*')` (the CLI's `--verbose`). Then a pull that
 * stalls explains itself: which sources were tried, how fast each was, why
 * one was dropped.
 */
import createDebug from 'debug'

export interface Logger {
  (format: string, ...args: unknown[]): void
  readonly enabled: boolean
}

/** A logger for one component: `logger('fetch')` logs as `citrate:fetch`. */
export function logger (component: string): Logger {
  return createDebug(`citrate:${component}`) as unknown as Logger
}

/** Turns logging on for these namespaces (comma-separated, `*` wildcards), added to any in DEBUG. */
export function enableLogging (namespaces = 'citrate:*'): void {
  const current = createDebug.disable()
  createDebug.enable(current === '' ? namespaces : `${current},${namespaces}`)
}
