/**
 * THE download bandwidth cap: one token bucket that every byte read of a pull
 * (byte ranges, CAR streams, raw blocks; every source) is counted against.
 *
 * Why hand-written and not npm's `limiter` (the kept token bucket there):
 * its `removeTokens(n)` must know n before the read and rejects n over the
 * bucket size, its waits are plain timers with no AbortSignal, and a rate
 * change does not wake a waiter. Our readers learn n only after the socket
 * read (the byte-range client hands the socket a view and is told how much
 * landed), so this bucket lets a read go into debt and makes the next read
 * wait until the debt is paid: over any window the bytes read are at most
 * rate × window + one burst + one read per reader.
 *
 * - `take(n)` after n bytes were read (cheap: arithmetic, no timer).
 * - `delayMs()` is how long the next read must wait (0: now).
 * - `whenReady(fn)` calls fn once reading may go on (callback readers);
 *   `ready(signal)` is the same as a promise (stream readers).
 * - `setRate(mbps)` changes the cap at once, for every reader, running ones
 *   included: waiters are woken to look again (0 = unlimited wakes them all).
 *
 * Burst: the bucket holds at most max(256 KiB, 0.25 s of the rate), so after
 * a pause a pull cannot run ahead of the cap by more than a quarter second.
 * Readers cap each read at `readCap()` (64 KiB) while a cap is set, so one
 * read's debt is bounded too.
 */

/** Bytes a bucket holds at least (one socket read of a fast link fits). */
const MIN_BURST_BYTES = 256 * 1024
/** The bucket holds this much of the rate at most. */
const BURST_SECONDS = 0.25
/** The longest read a limited reader asks for: bounds the debt one read can run up. */
export const LIMITED_READ_BYTES = 64 * 1024

export class DownloadLimiter {
  private bytesPerSecond = 0
  private tokens = 0
  private refilledAt = Date.now()
  private readonly waiters = new Set<() => void>()
  private timer: NodeJS.Timeout | undefined

  /** `mbps`: megabytes (10^6 bytes) per second; 0 or less = unlimited. */
  constructor (mbps = 0) {
    this.setRate(mbps)
  }

  /** The cap in MB/s (10^6 bytes); 0 = unlimited. */
  get mbps (): number { return this.bytesPerSecond / 1e6 }
  get limited (): boolean { return this.bytesPerSecond > 0 }

  setRate (mbps: number): void {
    const rate = Number.isFinite(mbps) && mbps > 0 ? mbps * 1e6 : 0
    const wasLimited = this.limited
    this.refill()
    this.bytesPerSecond = rate
    // A cap set on an unlimited download starts with one full burst; a changed cap keeps its debt
    // (so raising and lowering it cannot be used to skip it) but never an old burst larger than the new one.
    this.tokens = wasLimited ? Math.min(this.burst, this.tokens) : this.burst
    this.wakeWhenReady(true)
  }

  /** The longest read to ask for now: LIMITED_READ_BYTES while capped, else `max`. */
  readCap (max: number): number {
    return this.limited ? Math.min(max, LIMITED_READ_BYTES) : max
  }

  /** n bytes were read: they are paid for from the bucket (nothing to do while unlimited). */
  take (n: number): void {
    if (!this.limited || n <= 0) return
    this.refill()
    this.tokens -= n
  }

  /** How long until the next read may start, ms (0 = now). */
  delayMs (): number {
    if (!this.limited) return 0
    this.refill()
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.bytesPerSecond) * 1000)
  }

  /**
   * Calls `fn` once the next read may start, always from a timer (never
   * before this returns, so a reader can set its state first). Returns a
   * function that cancels the wait.
   */
  whenReady (fn: () => void): () => void {
    this.waiters.add(fn)
    this.wakeWhenReady(false)
    return () => { this.waiters.delete(fn) }
  }

  /** Resolves once the next read may start; rejects with the signal's reason if it aborts first. */
  async ready (signal?: AbortSignal): Promise<void> {
    if (this.delayMs() === 0) return
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => { cancel(); reject(signal?.reason) }
      const cancel = this.whenReady(() => { signal?.removeEventListener('abort', onAbort); resolve() })
      if (signal?.aborted === true) onAbort()
      else signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  private get burst (): number {
    return Math.max(MIN_BURST_BYTES, this.bytesPerSecond * BURST_SECONDS)
  }

  private refill (): void {
    const now = Date.now()
    if (this.bytesPerSecond > 0) this.tokens = Math.min(this.burst, this.tokens + (now - this.refilledAt) / 1000 * this.bytesPerSecond)
    this.refilledAt = now
  }

  /** One timer for all waiters, set for when the debt is paid; `now` wakes them to look again (the rate changed). */
  private wakeWhenReady (now: boolean): void {
    if (this.waiters.size === 0) return
    clearTimeout(this.timer)
    this.timer = undefined
    const delay = now ? 0 : this.delayMs()
    const fire = (): void => {
      this.timer = undefined
      if (this.delayMs() > 0) { this.wakeWhenReady(false); return }
      const woken = [...this.waiters]
      this.waiters.clear()
      for (const fn of woken) fn()
    }
    this.timer = setTimeout(fire, delay)
  }
}
