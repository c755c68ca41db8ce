/**
 * Node status, as IPFS Desktop shows it: peers, kubo's repo size against its
 * limit, free disk, a live bandwidth chart (kubo's stats/bw rates, sampled by
 * the service once a second while this page is open) and the end of the
 * daemon's log.
 */
import { useEffect, useState, type ReactNode } from 'react'
import { formatBytes, type BandwidthSample, type NodeStats } from '@citrate-ipfs/contract'
import { client } from '../api.ts'
import { ErrorPanel } from '../components.tsx'

const POLL_MS = 1000

export function StatusPage (): ReactNode {
  const [stats, setStats] = useState<NodeStats | undefined>()
  const [error, setError] = useState<unknown>()
  useEffect(() => {
    let stopped = false
    let timer: ReturnType<typeof setTimeout> | undefined
    const poll = async (): Promise<void> => {
      try {
        const s = await client().invoke('ipfs_node_stats', { log_lines: 40 })
        if (!stopped) { setStats(s); setError(undefined) }
      } catch (err) {
        if (!stopped) setError(err)
      }
      // The next poll starts after this one ends, so a slow daemon never has calls piling up.
      if (!stopped) timer = setTimeout(() => { void poll() }, POLL_MS)
    }
    void poll()
    return () => { stopped = true; clearTimeout(timer) }
  }, [])

  return (
    <section aria-labelledby='status-title'>
      <h1 id='status-title'>Node status</h1>
      <p className='lead'>Your IPFS node (kubo) right now. Updated every second while this page is open.</p>
      {error != null && <ErrorPanel error={error} />}
      {stats == null && error == null && <p>Loading…</p>}
      {stats != null && (
        <>
          {!stats.running && <p className='card' data-testid='status-stopped'>IPFS is not running. Start it on the <a href='#/setup'>Setup</a> page to see peers and bandwidth.</p>}
          <div className='tiles'>
            <Tile label='Peers' testId='stat-peers' value={stats.peers != null ? String(stats.peers) : stats.offline ? 'offline' : '—'}
              note={stats.offline ? 'offline = true: no network routing' : stats.peers === 0 ? 'connected to no one yet' : undefined} />
            <Tile label='IPFS storage' testId='stat-repo' value={stats.repo != null ? formatBytes(stats.repo.size_bytes) : '—'}
              note={stats.repo?.storage_max_bytes != null ? `of ${formatBytes(stats.repo.storage_max_bytes)} allowed` : undefined} />
            <Tile label='Free disk' testId='stat-disk' value={stats.disk != null ? formatBytes(stats.disk.free_bytes) : '—'}
              note={stats.disk != null ? `of ${formatBytes(stats.disk.total_bytes)}` : undefined} />
            <Tile label='Traffic' testId='stat-traffic' value={stats.bandwidth != null ? `↓ ${formatBytes(stats.bandwidth.total_in)}` : '—'}
              note={stats.bandwidth != null ? `↑ ${formatBytes(stats.bandwidth.total_out)} since IPFS started` : undefined} />
          </div>
          <div className='card'>
            <h2>Bandwidth</h2>
            {stats.bandwidth != null || stats.history.length > 0
              ? <BandwidthChart samples={stats.history} />
              : <p className='hint' data-testid='no-bandwidth'>{stats.offline ? 'kubo runs offline (offline = true), so it has no network traffic to measure.' : 'Bandwidth is measured while IPFS runs.'}</p>}
          </div>
          <div className='card'>
            <h2>IPFS log</h2>
            <pre className='log' data-testid='log-tail' tabIndex={0} aria-label='The last lines of the IPFS log'>{stats.log_tail !== '' ? stats.log_tail : 'The log is empty.'}</pre>
          </div>
          {stats.notes.length > 0 && <p className='hint' data-testid='status-notes'>Not available: {stats.notes.join('; ')}</p>}
        </>
      )}
    </section>
  )
}

function Tile ({ label, value, note, testId }: { label: string, value: string, note?: string, testId: string }): ReactNode {
  return (
    <div className='tile' data-testid={testId}>
      <div className='tile-label'>{label}</div>
      <div className='tile-value'>{value}</div>
      {note != null && <div className='hint'>{note}</div>}
    </div>
  )
}

const W = 600
const H = 160
const PAD = 4

/** Rates as two polylines in a plain SVG, newest at the right; the scale is the largest rate shown (at least 1 KB/s). */
export function BandwidthChart ({ samples }: { samples: BandwidthSample[] }): ReactNode {
  const shown = samples.slice(-60)
  const max = Math.max(1000, ...shown.map(s => Math.max(s.rate_in, s.rate_out)))
  const x = (i: number): number => shown.length <= 1 ? W - PAD : PAD + (i / (shown.length - 1)) * (W - 2 * PAD)
  const y = (v: number): number => H - PAD - (v / max) * (H - 2 * PAD)
  const line = (pick: (s: BandwidthSample) => number): string => shown.map((s, i) => `${x(i).toFixed(1)},${y(pick(s)).toFixed(1)}`).join(' ')
  const last = shown.at(-1)
  const summary = last != null ? `Now: in ${formatBytes(last.rate_in)}/s, out ${formatBytes(last.rate_out)}/s; scale up to ${formatBytes(max)}/s over the last ${shown.length} seconds.` : 'No samples yet.'
  return (
    <figure className='chart' data-testid='bandwidth-chart'>
      <svg viewBox={`0 0 ${W} ${H}`} role='img' aria-label={`Bandwidth chart. ${summary}`} preserveAspectRatio='none'>
        <line x1={PAD} x2={W - PAD} y1={H - PAD} y2={H - PAD} className='axis' />
        <line x1={PAD} x2={W - PAD} y1={PAD} y2={PAD} className='grid' />
        {shown.length > 0 && <polyline points={line(s => s.rate_in)} className='rate-in' data-testid='line-in' />}
        {shown.length > 0 && <polyline points={line(s => s.rate_out)} className='rate-out' data-testid='line-out' />}
      </svg>
      <figcaption className='hint'>
        <span className='key in'>in</span> <span className='key out'>out</span> · top of the chart: {formatBytes(max)}/s · {last != null ? `now ↓ ${formatBytes(last.rate_in)}/s ↑ ${formatBytes(last.rate_out)}/s` : 'waiting for samples'}
      </figcaption>
    </figure>
  )
}
