/**
 * One download's row: live progress while it runs; once it ends, a still
 * state with what to do next. A failure says in plain words what happened and
 * a next step that fits this computer (is IPFS running? is a gateway set?),
 * with the sources' raw errors behind "Details"; the user's own Cancel is
 * "Cancelled", not a failure. Retry and Dismiss go to the service, so every
 * window and every reload agree.
 */
import { useCallback, useEffect, useState, type ReactNode } from 'react'
import type { DownloadView } from '@citrate-ipfs/client'
import { formatBytes } from '@citrate-ipfs/contract'
import { client } from './api.ts'
import { ErrorPanel, ProgressBar } from './components.tsx'

/** What the next step of a failed download depends on: whether the local node runs and whether any gateway is set. */
export interface Situation { daemonRunning: boolean, gateways: boolean, offline: boolean }

/** Reads the situation from the service; refreshed whenever `key` changes (e.g. when a download fails). */
export function useSituation (key: string): Situation | undefined {
  const [situation, setSituation] = useState<Situation | undefined>()
  const read = useCallback(async () => {
    try {
      const [status, config] = await Promise.all([client().invoke('ipfs_check_status'), client().invoke('ipfs_get_config')])
      const ipfs = config.ipfs
      const set = (k: string): boolean => typeof ipfs[k] === 'string' && ipfs[k] !== ''
      const publicGateways = Array.isArray(ipfs.public_gateways) && ipfs.public_gateways.length > 0
      setSituation({ daemonRunning: status.running, gateways: set('external_gateway') || set('fallback_gateway') || publicGateways, offline: ipfs.offline === true })
    } catch {
      setSituation(undefined)
    }
  }, [])
  useEffect(() => { void read() }, [read, key])
  return situation
}

/** The codes whose next step depends on where content can come from. */
const SOURCE_CODES = new Set(['ALL_SOURCES_FAILED', 'SOURCE_FAILED', 'DAEMON_NOT_RUNNING', 'TIMEOUT'])

/** The next step for a failed download, fitted to the situation; undefined keeps the code's own hint. */
export function downloadHint (code: string, s: Situation | undefined): string | undefined {
  if (!SOURCE_CODES.has(code) || s == null) return undefined
  const kept = 'Verified parts are kept, so a retry continues where this one stopped.'
  if (!s.daemonRunning && !s.gateways) return `Start IPFS on the Setup page, or set an external gateway there, then click Retry. ${kept}`
  if (!s.daemonRunning) return `Your gateways could not provide it. Start IPFS on the Setup page so it can be found on the IPFS network, then click Retry. ${kept}`
  if (!s.gateways) return `Your IPFS node could not find it${s.offline ? ' (it runs offline, so it only has what is stored on this computer)' : ''}. Set a gateway that has it on the Setup page, or click Retry later. ${kept}`
  return `Neither your IPFS node${s.offline ? ' (running offline)' : ''} nor your gateways could provide this content right now. Check the CID, or click Retry later, when a computer that has it is online. ${kept}`
}

type Ended = 'failed' | 'cancelled' | undefined

export function endedAs (d: DownloadView): Ended {
  if (d.cancelled === true) return 'cancelled'
  return d.error != null ? 'failed' : undefined
}

function statusText (d: DownloadView): string {
  const ended = endedAs(d)
  if (ended === 'cancelled') return 'Cancelled'
  if (ended === 'failed') return 'Failed'
  const s = d.progress.status
  return typeof s === 'string' ? s : 'Failed'
}

export interface DownloadActions { pause: () => void, resume: () => void, cancel: () => void, retry: () => void, dismiss: () => void }

export function DownloadRow ({ d, situation, on }: { d: DownloadView, situation: Situation | undefined, on: DownloadActions }): ReactNode {
  const p = d.progress
  const status = statusText(d)
  const ended = endedAs(d)
  return (
    <div className={`download${ended != null ? ` ended ${ended}` : ''}`} data-testid={`download-${d.id}`}>
      <div className='download-head'>
        <strong className='truncate' title={d.id}>{d.id}</strong>
        <span className={ended === 'failed' ? 'badge bad' : 'badge'} data-testid='download-status'>{status}</span>
      </div>
      <ProgressBar value={p.downloaded_bytes} max={p.total_bytes > 0 ? p.total_bytes : undefined} label={`Download of ${d.id}`} still={ended != null} />
      <p className='hint' data-testid='download-stats'>
        {formatBytes(p.downloaded_bytes)}{p.total_bytes > 0 ? ` of ${formatBytes(p.total_bytes)}` : ''}
        {status === 'Downloading' ? ` · ${p.speed_mbps.toFixed(1)} MB/s` : ''}
        {status === 'Downloading' && p.eta_seconds != null ? ` · ${Math.ceil(p.eta_seconds)} s left` : ''}
        {ended == null && p.source != null ? ` · from ${p.source}` : ''}
      </p>
      {ended == null && p.sources != null && p.sources.length > 0 && status !== 'Complete' && (
        <p className='hint' data-testid='download-sources'>
          {p.sources.map(s => `${s.name} ${formatBytes(s.bytes)}${s.state === 'active' ? ` ${s.speed_mbps.toFixed(1)} MB/s` : s.state === 'cooling' ? ' (resting)' : ' (dropped)'}`).join(' · ')}
        </p>
      )}
      {ended === 'cancelled' && <p data-testid='download-cancelled'>You cancelled this download; its partial data was discarded.</p>}
      {ended === 'failed' && d.error != null && (
        <ErrorPanel error={Object.assign(new Error(d.error.message), { code: d.error.code })} hint={downloadHint(d.error.code, situation)} />
      )}
      <div className='row'>
        {ended == null && status !== 'Paused' && <button type='button' onClick={on.pause}>Pause</button>}
        {ended == null && status === 'Paused' && <button type='button' onClick={on.resume}>Resume</button>}
        {ended == null && <button type='button' onClick={on.cancel}>Cancel</button>}
        {ended != null && <button type='button' className='primary' onClick={on.retry}>{ended === 'cancelled' ? 'Download again' : 'Retry'}</button>}
        {ended != null && <button type='button' onClick={on.dismiss}>Dismiss</button>}
      </div>
    </div>
  )
}
