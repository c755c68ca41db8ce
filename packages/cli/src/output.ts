/**
 * Everything the CLI shows goes through an Output: human text on stdout,
 * warnings and progress on stderr, or (with --json) JSON on stdout.
 */
import type { SourceProgress } from '@citrate-ipfs/contract'
import { formatBytes } from '@citrate-ipfs/contract/plain'
import { exitCodeFor, hintFor, InterruptedError, toCliError } from './errors.ts'

export { exitCodeFor } from './errors.ts'

export class Output {
  readonly json: boolean
  readonly stdout: NodeJS.WriteStream
  readonly stderr: NodeJS.WriteStream

  constructor (json: boolean, stdout: NodeJS.WriteStream = process.stdout, stderr: NodeJS.WriteStream = process.stderr) {
    this.json = json
    this.stdout = stdout
    this.stderr = stderr
  }

  /** A result: `human` text normally, `data` as one JSON document with --json. */
  result (data: unknown, human: string): void {
    if (this.json) this.stdout.write(JSON.stringify(data) + '\n')
    else if (human !== '') this.stdout.write(human.endsWith('\n') ? human : human + '\n')
  }

  /** One JSON event per line with --json; nothing otherwise (the caller draws progress). */
  event (data: unknown): void {
    if (this.json) this.stdout.write(JSON.stringify(data) + '\n')
  }

  warn (message: string): void {
    this.stderr.write(`citrate-ipfs: warning: ${message}\n`)
  }

  /** The one-line error (and a `hint:` line when the CLI knows the next step), and the exit code to leave with. */
  error (err: unknown): number {
    const e = toCliError(err)
    const hint = hintFor(e)
    if (err instanceof InterruptedError) {
      if (this.json) this.stdout.write(JSON.stringify({ error: { code: e.code, message: e.message } }) + '\n')
      else this.stderr.write(`${e.message}\n`)
      return err.exitCode
    }
    if (this.json) this.stdout.write(JSON.stringify({ error: { code: e.code, message: e.message, ...(hint != null ? { hint } : {}) } }) + '\n')
    else this.stderr.write(`citrate-ipfs: error: ${e.message.split('\n')[0] ?? ''}\n${hint != null ? `hint: ${hint}\n` : ''}`)
    return exitCodeFor(e.code)
  }

  get interactive (): boolean {
    return !this.json && this.stderr.isTTY === true
  }
}

/**
 * A progress bar on stderr, redrawn in place, with an optional second line
 * under it (each source's part of a pull); only used on a TTY. Each line is
 * cut to the terminal's width so the redraw never wraps.
 */
export class ProgressBar {
  private readonly out: NodeJS.WriteStream
  private readonly label: string
  private readonly startedAt = Date.now()
  /** Lines on screen now: 0, 1 or 2. */
  private lines = 0

  constructor (out: NodeJS.WriteStream, label: string) {
    this.out = out
    this.label = label
  }

  update (done: number, total: number | undefined, extra = '', second?: string): void {
    const width = 28
    const elapsed = (Date.now() - this.startedAt) / 1000
    const rate = elapsed > 0 ? done / elapsed : 0
    let bar = ''
    let pct = ''
    let eta = ''
    if (total != null && total > 0) {
      const f = Math.min(1, done / total)
      const full = Math.round(f * width)
      bar = `[${'='.repeat(Math.max(0, full - 1))}${full > 0 ? '>' : ''}${' '.repeat(width - full)}] `
      pct = `${(f * 100).toFixed(1).padStart(5)}% `
      if (rate > 0 && done < total) eta = ` ETA ${formatDuration((total - done) / rate)}`
    }
    const sizes = total != null ? `${formatBytes(done)}/${formatBytes(total)}` : formatBytes(done)
    const line = `${this.label} ${bar}${pct}${sizes} ${formatBytes(rate)}/s${eta}${extra !== '' ? ' ' + extra : ''}`
    const up = this.lines === 2 ? '\x1b[1A' : ''
    let text = `${up}\r\x1b[2K${this.fit(line)}`
    if (second != null && second !== '') {
      text += `\n\x1b[2K${this.fit(second)}`
      this.lines = 2
    } else if (this.lines === 2) {
      // The second line went away: clear it and come back up.
      text += '\n\x1b[2K\x1b[1A'
      this.lines = 1
    } else {
      this.lines = 1
    }
    this.out.write(text)
  }

  done (message?: string): void {
    if (this.lines === 2) this.out.write('\r\x1b[2K\x1b[1A')
    if (this.lines > 0) this.out.write('\r\x1b[2K')
    this.lines = 0
    if (message != null) this.out.write(message + '\n')
  }

  private fit (line: string): string {
    const cols = this.out.columns ?? 80
    return line.length >= cols ? line.slice(0, Math.max(1, cols - 2)) + '…' : line
  }
}

/** Each source's part on one line: `daemon 12.0 MiB 31.2 MB/s · https://gw 2.0 MiB cooling (HTTP 429 …)`. */
export function formatSources (sources: readonly SourceProgress[]): string {
  return sources.map((s) => {
    const state = s.state === 'active' ? `${s.speed_mbps.toFixed(1)} MB/s` : s.state === 'cooling' ? 'cooling down' : 'dropped'
    const why = s.state !== 'active' && s.reason != null ? ` (${s.reason.length > 60 ? s.reason.slice(0, 59) + '…' : s.reason})` : ''
    return `${s.name} ${formatBytes(s.bytes)} ${state}${why}`
  }).join(' · ')
}

export function formatDuration (seconds: number): string {
  if (!Number.isFinite(seconds)) return '?'
  const s = Math.round(seconds)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}
