/**
 * THE stall watchdog: no bytes for `ms` = stalled. Every network read in core
 * runs under one (gateway blocks and CARs, byte ranges, the installer's
 * download), so "stalled" means the same everywhere and is classified once
 * (classify.ts: `stalled` is transient).
 *
 * - `kick()` on every sign of life (response headers, each chunk); it is
 *   cheap (`Timeout.refresh()`, no allocation), so the byte-range client can
 *   call it on every socket read.
 * - `pause()` while the silence is ours (our disk is behind and we stopped
 *   reading): the clock stops. `resume()` starts it again from zero. Node
 *   cannot refresh a cleared timer back to life, so resume arms a new one.
 * - `stop()` when the request is over; nothing fires after it.
 * Once it has fired it stays `stalled`; kicks no longer matter.
 */
export class StallWatchdog {
  readonly ms: number
  private readonly onStall: () => void
  private timer: NodeJS.Timeout | undefined
  private state: 'running' | 'paused' | 'stopped' | 'stalled' = 'running'

  /** Starts the clock at once. */
  constructor (ms: number, onStall: () => void) {
    this.ms = ms
    this.onStall = onStall
    this.arm()
  }

  get stalled (): boolean { return this.state === 'stalled' }
  get paused (): boolean { return this.state === 'paused' }

  /** Bytes arrived: the silence starts over. Ignored while paused, stopped or stalled. */
  kick (): void {
    if (this.state !== 'running') return
    if (this.timer != null) this.timer.refresh()
    else this.arm()
  }

  /** The silence is ours, not the source's: stop the clock until resume(). */
  pause (): void {
    if (this.state !== 'running') return
    this.state = 'paused'
    clearTimeout(this.timer)
    this.timer = undefined
  }

  /** Reading again: the clock restarts from zero. */
  resume (): void {
    if (this.state !== 'paused') return
    this.state = 'running'
    this.arm()
  }

  stop (): void {
    if (this.state === 'stalled') return
    this.state = 'stopped'
    clearTimeout(this.timer)
    this.timer = undefined
  }

  /** "stalled (no data for 0.5 s)": the one wording of a stall in errors and logs. */
  describe (): string {
    return `stalled (no data for ${Math.round(this.ms / 100) / 10} s)`
  }

  private arm (): void {
    this.timer = setTimeout(() => {
      if (this.state !== 'running') return
      this.state = 'stalled'
      this.timer = undefined
      this.onStall()
    }, this.ms)
  }
}

/**
 * A signal for one request that aborts when `outer` does or when the request
 * stalls, with its watchdog. `stalled` tells the two apart afterwards.
 * `dispose()` ends the request: the clock stops, anything still open on the
 * signal (a body the consumer stopped reading) is cancelled, `outer` unhooked.
 */
export interface StallGuard {
  readonly signal: AbortSignal
  readonly watchdog: StallWatchdog
  readonly stalled: boolean
  dispose: () => void
}

export function stallGuard (ms: number, outer?: AbortSignal): StallGuard {
  const ctrl = new AbortController()
  const onAbort = (): void => { ctrl.abort(outer?.reason) }
  if (outer?.aborted === true) ctrl.abort(outer.reason)
  else outer?.addEventListener('abort', onAbort, { once: true })
  const watchdog = new StallWatchdog(ms, () => { ctrl.abort() })
  return {
    signal: ctrl.signal,
    watchdog,
    get stalled () { return watchdog.stalled },
    dispose: () => {
      watchdog.stop()
      outer?.removeEventListener('abort', onAbort)
      if (!ctrl.signal.aborted) ctrl.abort()
    }
  }
}
