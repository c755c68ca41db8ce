/** Helpers for AbortSignal-based timeouts, the one way every network call is bounded. */
import { AbortedError, TimeoutError } from '../errors.ts'

/** A signal that aborts when `signal` does or after `ms`, whichever is first. */
export function withTimeout (ms: number, signal?: AbortSignal): AbortSignal {
  const t = AbortSignal.timeout(ms)
  return signal == null ? t : AbortSignal.any([signal, t])
}

/** Turns an abort caused by a timeout into a TimeoutError naming what timed out. */
export function abortReason (err: unknown, what: string, ms: number, signal?: AbortSignal): Error | undefined {
  const e = err as { name?: string }
  if (signal?.aborted === true) return new AbortedError(what)
  if (e?.name === 'TimeoutError') return new TimeoutError(what, ms)
  if (e?.name === 'AbortError') return new TimeoutError(what, ms)
  return undefined
}

export function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) { reject(new AbortedError()); return }
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve() }, ms)
    const onAbort = (): void => { clearTimeout(t); reject(new AbortedError()) }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
