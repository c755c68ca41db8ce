/**
 * Everything the CLI shows goes through an Output: human text on stdout,
 * warnings and progress on stderr, or (with --json) JSON on stdout.
 */
import { formatBytes } from '@citrate-ipfs/contract'
import { exitCodeFor, hintFor, toCliError } from './errors.ts'

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
    if (this.json) this.stdout.write(JSON.stringify({ error: { code: e.code, message: e.message, ...(hint != null ? { hint } : {}) } }) + '\n')
    else this.stderr.write(`citrate-ipfs: error: ${e.message.split('\n')[0] ?? ''}\n${hint != null ? `hint: ${hint}\n` : ''}`)
    return exitCodeFor(e.code)
  }

  get interactive (): boolean {
    return !this.json && this.stderr.isTTY === true
  }
}

/** A single-line progress bar on stderr, redrawn in place; only used on a TTY. */
export class ProgressBar {
  private readonly out: NodeJS.WriteStream
  private readonly label: string
  private readonly startedAt = Date.now()
  private drawn = false

  constructor (out: NodeJS.WriteStream, label: string) {
    this.out = out
    this.label = label
  }

  update (done: number, total: number | undefined, extra = ''): void {
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
    this.out.write(`\r\x1b[2K${line}`)
    this.drawn = true
  }

  done (message?: string): void {
    if (this.drawn) this.out.write('\r\x1b[2K')
    if (message != null) this.out.write(message + '\n')
  }
}

export function formatDuration (seconds: number): string {
  if (!Number.isFinite(seconds)) return '?'
  const s = Math.round(seconds)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}
