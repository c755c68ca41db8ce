import { InvalidArgumentError, MODEL_KINDS, parseContentPath, startPull, type DownloadProgress, type ModelKind, type PullEvent, type PullResult, type SourceMode } from '@citrate-ipfs/core'
import { formatBytes } from '@citrate-ipfs/contract/plain'
import type { Context } from '../context.ts'
import { InterruptedError } from '../errors.ts'
import { formatDuration, formatSources } from '../output.ts'
import { plainDisplay, stoppedAt, terminalDisplay, type PullDisplay } from '../progress.ts'

export interface PullCliOptions {
  name?: string
  filename?: string
  kind?: string
  source?: string
  /** false with --no-fsync (commander's negatable option). */
  fsync?: boolean
  /** --limit-rate <MB/s>: the download bandwidth cap (0: none; default the config's max_download_mbps). */
  limitRate?: string
}

/** With --verbose, each source's part is written to stderr this often (and once at the end). */
const VERBOSE_SOURCES_MS = 5000

const KINDS: readonly ModelKind[] = MODEL_KINDS
const SOURCES: readonly SourceMode[] = ['auto', 'daemon', 'gateway']

/**
 * `citrate-ipfs pull <cid>[/path]` (or `/ipfs/…`, `ipfs://…`, a gateway link): a verified download with a progress line (or one
 * JSON event per line with --json). Ctrl-C pauses it: the verified progress is
 * kept, the command exits 130, and running it again resumes.
 */
export async function pullCommand (ctx: Context, opts: PullCliOptions, cid: string): Promise<void> {
  const kind = (opts.kind ?? 'model') as ModelKind
  if (!KINDS.includes(kind)) throw new InvalidArgumentError(`--kind must be one of ${KINDS.join(', ')} (got "${opts.kind ?? ''}")`)
  const source = (opts.source ?? 'auto') as SourceMode
  if (!SOURCES.includes(source)) throw new InvalidArgumentError(`--source must be one of ${SOURCES.join(', ')} (got "${opts.source ?? ''}")`)

  const maxDownloadMbps = parseRate(opts.limitRate)

  // The live line on a terminal; plain lines now and then otherwise; nothing but the events with --json.
  const label = `pulling ${shortTarget(cid)}`
  const display: PullDisplay | undefined = ctx.out.json
    ? undefined
    : ctx.out.interactive ? await terminalDisplay(ctx.out.stderr, cid, label) : plainDisplay(ctx.out.stderr, cid, label)
  const verbose = ctx.verbose
  let lastVerbose = Date.now()
  let last: DownloadProgress | undefined
  const stop = new AbortController()
  let stoppedBy: NodeJS.Signals | undefined
  // `on`, not `once`: log-update's cursor restore (signal-exit) kills the process when it is
  // the only listener left. A second Ctrl-C while the pause settles leaves at once (the
  // resume journal is crash-safe, so nothing is lost but the last moment).
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stoppedBy != null) {
      display?.done()
      process.exit(signal === 'SIGTERM' ? 143 : 130)
    }
    stoppedBy = signal
    stop.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const startedAt = Date.now()
  const handle = startPull({
    cid,
    config: ctx.config,
    name: opts.name,
    filename: opts.filename,
    kind,
    source,
    fsync: opts.fsync === false ? false : undefined,
    ...(maxDownloadMbps !== undefined ? { maxDownloadMbps } : {}),
    signal: stop.signal,
    publicGateways: publicGatewaysFromEnv(),
    onProgress: (e: PullEvent) => {
      ctx.out.event(e)
      if (display == null) return
      if (e.type === 'citrate:pull:progress') {
        last = e.progress
        if (verbose && e.progress.sources != null && Date.now() - lastVerbose >= VERBOSE_SOURCES_MS) {
          lastVerbose = Date.now()
          display.print(`sources: ${formatSources(e.progress.sources)}`)
        }
        display.update(e.progress)
      } else if (e.type === 'citrate:pull:source-failed' && e.dropped) {
        display.print(`citrate-ipfs: warning: source ${e.source} dropped: ${e.reason}`)
      } else if (e.type === 'citrate:pull:waiting') {
        display.print(`${e.reason}…`)
      } else if (e.type === 'citrate:pull:resumed') {
        display.print(`resuming: ${formatBytes(e.bytes)} already verified on disk`)
      } else if (e.type === 'citrate:pull:symlink-skipped') {
        display.print(`citrate-ipfs: warning: symlink ${e.path} -> ${e.target} not written: ${e.reason}`)
      } else if (e.type === 'citrate:pull:pin-skipped') {
        display.print(`citrate-ipfs: warning: not pinned: ${e.reason} (\`citrate-ipfs daemon start\`, or \`citrate-ipfs pin --registered\` while it runs)`)
      }
    }
  })
  try {
    const res = await handle.result
    display?.done(res.alreadyPresent || res.reusedFrom != null ? undefined : finishedLine(res, Date.now() - startedAt))
    const human = res.alreadyPresent
      ? `${res.entry.id} is already present (${res.entry.cid}) at ${res.path}`
      : [
          `pulled ${res.entry.cid} (${res.type}, ${formatBytes(res.totalBytes)}, every block verified) as ${res.entry.id}`,
          ...(res.contentPath != null ? [`  from the path ${res.contentPath}`] : []),
          `  path: ${res.path}`,
          ...(res.resumedBytes > 0 ? [`  resumed: ${formatBytes(res.resumedBytes)} were already on disk`] : []),
          `  from: ${fromLine(res)}`,
          ...res.failures.map(f => `  dropped source ${f.source}: ${f.reason}`),
          ...res.skippedSymlinks.map(l => `  not written: symlink ${l.path} -> ${l.target} (${l.reason})`),
          ...(res.pinned ? ['  pinned in the local kubo'] : []),
          ...(!res.pinned && res.entry.pin_pending === true ? ['  not pinned yet (auto_pin): the next `citrate-ipfs daemon start` pins it'] : [])
        ].join('\n')
    ctx.out.result({ pulled: true, ...res }, human)
  } catch (err) {
    const at = last ?? handle.progress
    if (stoppedBy != null) {
      // Ctrl-C keeps every verified byte: this is a pause, not a failure (the error line is the one line said).
      display?.done()
      throw new InterruptedError(`paused at ${stoppedAt(at)} — run the same command to resume`, stoppedBy)
    }
    // How far it got, when it got anywhere (a malformed CID or a full disk fails before it starts).
    const started = last != null && last.status !== 'Queued'
    display?.done(started ? `stopped at ${stoppedAt(at)} after ${formatDuration((Date.now() - startedAt) / 1000)}` : undefined)
    throw err
  } finally {
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
  }
}

/** The display's last line after a pull that fetched: `100% 4.7 GB in 2m03s · 38 MB/s average`. */
function finishedLine (res: PullResult, ms: number): string {
  const seconds = ms / 1000
  const fetched = res.fetchedBytes > 0 && seconds > 0 ? ` · ${formatBytes(res.fetchedBytes / seconds)}/s average` : ''
  return `100% ${formatBytes(res.totalBytes)} in ${formatDuration(seconds)}${fetched}`
}

/** --limit-rate: MB/s, 0 or more; undefined when not given. */
function parseRate (value: string | undefined): number | undefined {
  if (value == null) return undefined
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`--limit-rate must be a number of MB/s, 0 or more (0: no limit); got "${value}"`)
  return n
}

/** Each source that delivered, with its share: `daemon 75% (48.0 MiB), https://gw 25% (16.0 MiB)`. */
function fromLine (res: PullResult): string {
  const used = res.shares.filter(s => s.bytes > 0)
  if (res.reusedFrom != null) return `the verified copy of ${res.reusedFrom} on this machine (nothing fetched)`
  if (used.length === 0) return res.sources.length > 0 ? res.sources.join(', ') : '(nothing fetched)'
  return used.map(s => `${s.name} ${Math.round(s.share * 100)}% (${formatBytes(s.bytes)}, ${s.speed_mbps.toFixed(1)} MB/s)`).join(', ')
}

/**
 * CITRATE_IPFS_PUBLIC_GATEWAYS replaces the built-in public gateway list
 * (comma-separated; empty = none), e.g. for air-gapped machines and tests.
 */
function publicGatewaysFromEnv (): string[] | undefined {
  const v = process.env.CITRATE_IPFS_PUBLIC_GATEWAYS
  if (v == null) return undefined
  return v.split(',').map(s => s.trim()).filter(s => s !== '')
}

function shortCid (cid: string): string {
  return cid.length > 16 ? `${cid.slice(0, 8)}…${cid.slice(-6)}` : cid
}

/** `bafybeig…mtu64/quants/x.gguf` for any pasted form (a link is shown as the path it names); the text as given when it does not parse. */
function shortTarget (input: string): string {
  try {
    const p = parseContentPath(input)
    return [shortCid(p.cid.toString()), ...p.segments].join('/')
  } catch {
    return shortCid(input.trim())
  }
}
