import { AbortedError, InvalidArgumentError, startPull, type ModelKind, type PullEvent, type PullResult, type SourceMode } from '@citrate-ipfs/core'
import { formatBytes } from '@citrate-ipfs/contract/plain'
import type { Context } from '../context.ts'
import { formatDuration, formatSources, ProgressBar } from '../output.ts'

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

const KINDS: readonly ModelKind[] = ['model', 'dataset', 'checkpoint']
const SOURCES: readonly SourceMode[] = ['auto', 'daemon', 'gateway']

/**
 * `citrate-ipfs pull <cid>`: a verified download with a progress bar (or one
 * JSON event per line with --json). Ctrl-C stops it and keeps the verified
 * progress, so running the same command again resumes.
 */
export async function pullCommand (ctx: Context, opts: PullCliOptions, cid: string): Promise<void> {
  const kind = (opts.kind ?? 'model') as ModelKind
  if (!KINDS.includes(kind)) throw new InvalidArgumentError(`--kind must be one of ${KINDS.join(', ')} (got "${opts.kind ?? ''}")`)
  const source = (opts.source ?? 'auto') as SourceMode
  if (!SOURCES.includes(source)) throw new InvalidArgumentError(`--source must be one of ${SOURCES.join(', ')} (got "${opts.source ?? ''}")`)

  const maxDownloadMbps = parseRate(opts.limitRate)

  const bar = ctx.out.interactive ? new ProgressBar(ctx.out.stderr, `pulling ${shortCid(cid)}`) : undefined
  const verbose = ctx.verbose
  let lastVerbose = Date.now()
  const stop = new AbortController()
  const onSignal = (): void => { stop.abort() }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
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
      if (e.type === 'citrate:pull:progress' && verbose && !ctx.out.json && e.progress.sources != null && Date.now() - lastVerbose >= VERBOSE_SOURCES_MS) {
        lastVerbose = Date.now()
        bar?.done()
        ctx.out.stderr.write(`sources: ${formatSources(e.progress.sources)}\n`)
      }
      if (e.type === 'citrate:pull:progress') {
        if (bar == null) return
        const p = e.progress
        const status = typeof p.status === 'string' ? p.status : 'Failed'
        const eta = p.eta_seconds != null && status === 'Downloading' ? ` ETA ${formatDuration(p.eta_seconds)}` : ''
        const extra = `${p.speed_mbps.toFixed(1)} MB/s${eta} ${status === 'Downloading' ? '' : status}${p.source != null ? ` from ${p.source}` : ''}`
        bar.update(p.downloaded_bytes, p.total_bytes > 0 ? p.total_bytes : undefined, extra.trim(), p.sources != null && p.sources.length > 0 ? `  ${formatSources(p.sources)}` : undefined)
        return
      }
      // What a person must know reaches stderr with or without a terminal (never with --json: the event says it).
      if (ctx.out.json) return
      if (e.type === 'citrate:pull:source-failed' && e.dropped) {
        bar?.done()
        ctx.out.warn(`source ${e.source} dropped: ${e.reason}`)
      } else if (e.type === 'citrate:pull:waiting') {
        bar?.done()
        ctx.out.stderr.write(`${e.reason}…\n`)
      } else if (e.type === 'citrate:pull:resumed') {
        bar?.done()
        ctx.out.stderr.write(`resuming: ${formatBytes(e.bytes)} already verified on disk\n`)
      } else if (e.type === 'citrate:pull:pin-skipped') {
        bar?.done()
        ctx.out.warn(`not pinned: ${e.reason}`)
      }
    }
  })
  try {
    const res = await handle.result
    bar?.done()
    const human = res.alreadyPresent
      ? `${res.entry.id} is already present (${res.entry.cid}) at ${res.path}`
      : [
          `pulled ${res.entry.cid} (${res.type}, ${formatBytes(res.totalBytes)}, every block verified) as ${res.entry.id}`,
          `  path: ${res.path}`,
          ...(res.resumedBytes > 0 ? [`  resumed: ${formatBytes(res.resumedBytes)} were already on disk`] : []),
          `  from: ${fromLine(res)}`,
          ...res.failures.map(f => `  dropped source ${f.source}: ${f.reason}`),
          ...(res.pinned ? ['  pinned in the local kubo'] : []),
          ...(!res.pinned && res.entry.pin_pending === true ? ['  not pinned yet (auto_pin): the next `citrate-ipfs daemon start` pins it'] : [])
        ].join('\n')
    ctx.out.result({ pulled: true, ...res }, human)
  } catch (err) {
    bar?.done()
    if (stop.signal.aborted) throw new AbortedError('pull (interrupted; run the same command again to resume)')
    throw err
  } finally {
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
  }
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
