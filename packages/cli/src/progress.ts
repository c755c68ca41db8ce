/**
 * A pull's progress as people read it: one line, redrawn in place on a
 * terminal (log-update) and never wider than it, or plain lines now and then
 * when stderr is a file or a pipe.
 *
 *   [=======>        ] 45% 2.1/4.7 GB · 38 MB/s · 1m10s left · 3 sources
 *   connecting · 12s · asking https://gw.example (1 of 2 sources)
 *
 * Speed is over the last few seconds of bytes the sources delivered in this run
 * (not since the start, and not the bytes a resume re-proved from disk, which
 * would read as hundreds of MB/s), so the time left follows the pull as it is now.
 */
import type { DownloadProgress, SourceProgress } from '@citrate-ipfs/contract'
import { formatBytes } from '@citrate-ipfs/contract/plain'
import { formatDuration } from './output.ts'

/** The moving window speed is measured over: long enough to be steady, short enough that a resume or a stall shows within seconds. */
export const RATE_WINDOW_MS = 5000
/** Speed is shown once this much of the window has samples (a first figure from 250 ms of data jumps about). */
const RATE_MIN_SPAN_MS = 1000
/** With stderr not a terminal: a progress line this often (log files, CI), and at each change of phase. */
const PLAIN_EVERY_MS = 10_000
/** The display redraws on its own this often, so elapsed time moves while no event comes (queued, a silent source). */
const TICK_MS = 500

/** Bytes per second over a moving window of (time, cumulative bytes) samples. */
export class RateWindow {
  private readonly samples: Array<{ at: number, bytes: number }> = []
  private readonly windowMs: number

  constructor (windowMs = RATE_WINDOW_MS) {
    this.windowMs = windowMs
  }

  add (at: number, bytes: number): void {
    this.samples.push({ at, bytes })
    // Keep one sample older than the window, so the window is always spanned in full.
    while (this.samples.length > 2 && (this.samples[1]?.at ?? at) <= at - this.windowMs) this.samples.shift()
  }

  /** Bytes/s, or undefined until the samples span RATE_MIN_SPAN_MS. */
  rate (): number | undefined {
    const first = this.samples[0]
    const last = this.samples.at(-1)
    if (first == null || last == null) return undefined
    const span = last.at - first.at
    if (span < Math.min(RATE_MIN_SPAN_MS, this.windowMs)) return undefined
    return Math.max(0, last.bytes - first.bytes) / (span / 1000)
  }
}

/** What the line shows besides the core's progress event. */
export interface LineState {
  progress: DownloadProgress
  /** Bytes/s over the window (undefined: not known yet). */
  rate: number | undefined
  /** ms in the current phase (shown while queued or connecting). */
  phaseMs: number
  /** Shown first when there is room: which pull this is. */
  label: string
}

/** A part of the line; the lowest `keep` goes first when the terminal is narrow. */
interface Part { text: string, keep: number }

const SEP = ' · '

/** The progress line for `width` columns (Infinity: as long as it needs). */
export function progressLine (s: LineState, width: number): string {
  const p = s.progress
  const status = typeof p.status === 'string' ? p.status : 'Failed'
  const parts: Part[] = []
  let bar = false
  if (status === 'Queued') {
    parts.push({ text: `queued ${formatDuration(s.phaseMs / 1000)}`, keep: 9 })
  } else if (status === 'Connecting') {
    parts.push({ text: 'connecting', keep: 9 }, { text: formatDuration(s.phaseMs / 1000), keep: 8 })
    const trying = tryingText(p)
    if (trying != null) parts.push({ text: trying, keep: 7 })
  } else {
    const total = p.total_bytes
    const done = p.downloaded_bytes
    parts.push({ text: total > 0 ? `${percent(done, total)} ${sizes(done, total)}` : formatBytes(done), keep: 9 })
    if (status === 'Verifying') {
      parts.push({ text: 'moving into place', keep: 8 })
    } else if (status === 'Paused') {
      parts.push({ text: 'paused', keep: 8 })
    } else {
      if (s.rate != null) parts.push({ text: `${formatBytes(s.rate)}/s`, keep: 8 })
      if (s.rate != null && s.rate > 0 && total > done) parts.push({ text: `${formatDuration((total - done) / s.rate)} left`, keep: 7 })
      const from = sourcesText(p.sources)
      if (from != null) parts.push({ text: from, keep: 5 })
      bar = total > 0
    }
  }
  // Drop what is least needed until the line fits: the label first, then the lowest `keep`.
  const budget = Number.isFinite(width) ? Math.max(1, width) : Number.POSITIVE_INFINITY
  let withLabel = s.label !== ''
  const compose = (): string => (withLabel ? `${s.label}  ` : '') + parts.map(x => x.text).join(SEP)
  while (columns(compose()) > budget) {
    if (withLabel) { withLabel = false; continue }
    if (parts.length <= 1) break
    const i = parts.reduce((lo, x, j) => (x.keep < (parts[lo]?.keep ?? Infinity) ? j : lo), 0)
    parts.splice(i, 1)
  }
  let text = compose()
  if (bar && Number.isFinite(budget)) {
    // The bar takes what room is left (between the label and the numbers), if that is enough to read.
    const barWidth = Math.min(30, budget - columns(text) - 1)
    if (barWidth >= 12) {
      const drawn = drawBar(p.downloaded_bytes / p.total_bytes, barWidth)
      text = withLabel ? `${s.label}  ${drawn} ${parts.map(x => x.text).join(SEP)}` : `${drawn} ${text}`
    }
  }
  return fit(text, budget)
}

/** The last line of a pull that did not finish: how far it got. */
export function stoppedAt (p: DownloadProgress): string {
  if (p.total_bytes > 0) return `${percent(p.downloaded_bytes, p.total_bytes)} (${sizes(p.downloaded_bytes, p.total_bytes)} verified)`
  return p.downloaded_bytes > 0 ? `${formatBytes(p.downloaded_bytes)} verified` : '0% (nothing verified yet)'
}

/** The source being asked while connecting, and how many there are: `asking daemon (1 of 3 sources)`. */
function tryingText (p: DownloadProgress): string | undefined {
  const list = p.sources ?? []
  const usable = list.filter(x => x.state !== 'dropped')
  if (list.length > 0 && usable.length > 0 && usable.every(x => x.state === 'cooling')) {
    return `every source failed recently, retrying (${count(usable.length, 'source')})`
  }
  const name = p.source ?? usable.find(x => x.state === 'active')?.name
  if (name == null) return list.length > 0 ? count(list.length, 'source') : undefined
  const at = usable.findIndex(x => x.name === name)
  return `asking ${printable(name)}${usable.length > 1 && at >= 0 ? ` (${at + 1} of ${usable.length} sources)` : ''}`
}

/** `from daemon`, or `3 sources` (`, 1 cooling down`): the sources still in this pull. */
function sourcesText (sources: readonly SourceProgress[] | undefined): string | undefined {
  if (sources == null || sources.length === 0) return undefined
  const live = sources.filter(x => x.state !== 'dropped')
  if (live.length === 0) return 'no source left'
  if (live.length === 1) return `from ${printable(live[0]?.name ?? '')}`
  const cooling = live.filter(x => x.state === 'cooling').length
  return `${live.length} sources${cooling > 0 ? ` (${cooling} cooling down)` : ''}`
}

/** Percent with one decimal below 10% (so a big pull visibly moves), whole above; 100% only when done. */
function percent (done: number, total: number): string {
  const f = Math.min(1, done / total) * 100
  const shown = f < 10 ? Math.floor(f * 10) / 10 : Math.floor(f)
  return `${shown}%`
}

/** `2.1/4.7 GB`: one unit when both sides share it. */
function sizes (done: number, total: number): string {
  const d = formatBytes(done)
  const t = formatBytes(total)
  const unit = (x: string): string => x.split(' ')[1] ?? ''
  return unit(d) === unit(t) ? `${d.split(' ')[0] ?? ''}/${t}` : `${d}/${t}`
}

function drawBar (fraction: number, width: number): string {
  const inner = width - 2
  const full = Math.round(Math.min(1, Math.max(0, fraction)) * inner)
  return `[${'='.repeat(Math.max(0, full - 1))}${full > 0 ? (full === inner ? '=' : '>') : ''}${' '.repeat(inner - full)}]`
}

function count (n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`
}

/** Names from sources and errors, made safe for one terminal line: no control characters, nothing wider than one column. */
export function printable (text: string): string {
  return text.replace(/[^\x20-\x7e\u00a0-\u02ff]/g, '?')
}

/** Terminal columns of the text we draw: printable() keeps every character one column wide. */
function columns (text: string): number {
  return [...text].length
}

function fit (text: string, width: number): string {
  const chars = [...text]
  return chars.length <= width ? text : chars.slice(0, Math.max(0, width - 1)).join('') + '…'
}

/** What a pull's display does: draw progress, print lines above it, and leave a last line. */
export interface PullDisplay {
  update: (p: DownloadProgress) => void
  /** A line that stays (a warning, a resume note), printed above the live line. */
  print: (line: string) => void
  /** Clears the live line and leaves `last` (if any) in its place. */
  done: (last?: string) => void
}

interface Tracker { progress: DownloadProgress, rate: RateWindow, phase: string, phaseAt: number }

function newTracker (cid: string): Tracker {
  return {
    progress: { cid, total_bytes: 0, downloaded_bytes: 0, progress_percent: 0, speed_mbps: 0, eta_seconds: null, status: 'Queued', source: null },
    rate: new RateWindow(),
    phase: 'Queued',
    phaseAt: Date.now()
  }
}

/** Feeds one progress event to the tracker; true when the phase changed. */
function track (t: Tracker, p: DownloadProgress): boolean {
  const now = Date.now()
  t.progress = p
  // Bytes the sources delivered in this run: the network's part, without a resume's re-proved bytes.
  if (p.sources != null) t.rate.add(now, p.sources.reduce((n, x) => n + x.bytes, 0))
  const phase = typeof p.status === 'string' ? p.status : 'Failed'
  if (phase === t.phase) return false
  t.phase = phase
  t.phaseAt = now
  return true
}

function stateOf (t: Tracker, label: string): LineState {
  return { progress: t.progress, rate: t.rate.rate(), phaseMs: Date.now() - t.phaseAt, label }
}

/** The live line on a terminal, through log-update (which also hides the cursor and puts it back at exit). */
export async function terminalDisplay (stream: NodeJS.WriteStream, cid: string, label: string): Promise<PullDisplay> {
  const { createLogUpdate } = await import('log-update')
  const render = createLogUpdate(stream)
  const t = newTracker(cid)
  let live = true
  // One column spare: a line that fills the last column leaves some terminals waiting to wrap.
  const draw = (): void => { if (live) render(progressLine(stateOf(t, label), (stream.columns ?? 80) - 1)) }
  const tick = setInterval(draw, TICK_MS)
  tick.unref()
  return {
    update: (p) => { track(t, p); draw() },
    print: (line) => { render.clear(); stream.write(line + '\n'); draw() },
    done: (last) => {
      if (!live) return
      live = false
      clearInterval(tick)
      render.clear()
      render.done()
      if (last != null) stream.write(fit(last, Math.max(20, (stream.columns ?? 80) - 1)) + '\n')
    }
  }
}

/** Without a terminal: a line at each change of phase and every PLAIN_EVERY_MS while it runs. */
export function plainDisplay (stream: NodeJS.WritableStream, cid: string, label: string): PullDisplay {
  const t = newTracker(cid)
  let lastAt = 0
  return {
    update: (p) => {
      const changed = track(t, p)
      const phase = t.phase
      // Queued is over at once unless another pull holds the slot (which prints its own line); Complete and Failed have the last line.
      if (phase === 'Queued' || phase === 'Complete' || phase === 'Failed') return
      if (!changed && Date.now() - lastAt < PLAIN_EVERY_MS) return
      lastAt = Date.now()
      stream.write(progressLine(stateOf(t, label), Number.POSITIVE_INFINITY) + '\n')
    },
    print: (line) => { stream.write(line + '\n') },
    done: (last) => { if (last != null) stream.write(last + '\n') }
  }
}
