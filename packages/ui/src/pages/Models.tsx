/** Models: the registry, download by CID with live progress (pause/resume/cancel), verify and remove. */
import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from 'react'
import type { DownloadView, ModelEntry, ModelKind, VerifyOutcome } from '@citrate-ipfs/client'
import { formatBytes } from '@citrate-ipfs/contract'
import { client, useServiceEvents } from '../api.ts'
import { ErrorPanel, ProgressBar } from '../components.tsx'

export function ModelsPage (): ReactNode {
  const [models, setModels] = useState<ModelEntry[] | undefined>()
  const [downloads, setDownloads] = useState<Record<string, DownloadView>>({})
  const [error, setError] = useState<unknown>()
  const [verifying, setVerifying] = useState<Record<string, VerifyOutcome | 'running'>>({})

  const refresh = useCallback(async () => {
    try {
      setModels((await client().invoke('ipfs_list_models')).models)
      const { downloads: list } = await client().invoke('ipfs_list_downloads')
      setDownloads(Object.fromEntries(list.map(d => [d.id, d])))
    } catch (err) {
      setError(err)
    }
  }, [])
  useEffect(() => { void refresh() }, [refresh])

  useServiceEvents((e) => {
    if (e.event !== 'download-progress') return
    setDownloads(prev => ({ ...prev, [e.data.id]: e.data }))
    if (e.data.model != null) void refresh()
  })

  const act = async (fn: () => Promise<unknown>): Promise<void> => {
    setError(undefined)
    try { await fn() } catch (err) { setError(err) }
  }

  const verify = async (id: string): Promise<void> => {
    setVerifying(v => ({ ...v, [id]: 'running' }))
    try {
      const r = await client().invoke('ipfs_verify_model', { id })
      setVerifying(v => ({ ...v, [id]: r }))
      await refresh()
    } catch (err) {
      setVerifying(v => { const { [id]: _gone, ...rest } = v; return rest })
      setError(err)
    }
  }

  const active = Object.values(downloads).filter(d => d.model == null)
  return (
    <section aria-labelledby='models-title'>
      <h1 id='models-title'>Models</h1>
      <p className='lead'>Models, datasets and checkpoints stored on this computer. Every download is checked block by block against its CID.</p>
      <DownloadForm onStarted={(d) => setDownloads(prev => ({ ...prev, [d.id]: d }))} onError={setError} />
      {active.length > 0 && (
        <div className='card' aria-labelledby='dl-title'>
          <h2 id='dl-title'>Downloads</h2>
          {active.map(d => <DownloadRow key={d.id} d={d}
            onPause={() => { void act(() => client().invoke('ipfs_pause_download', { id: d.id })) }}
            onResume={() => { void act(() => client().invoke('ipfs_resume_download', { id: d.id })) }}
            onCancel={() => { void act(async () => { await client().invoke('ipfs_cancel_download', { id: d.id }); await refresh() }) }}
            onDismiss={() => setDownloads(prev => { const { [d.id]: _gone, ...rest } = prev; return rest })}
          />)}
        </div>
      )}
      {error != null && <ErrorPanel error={error} onDismiss={() => setError(undefined)} />}
      <div className='card'>
        <h2>Library</h2>
        {models == null && <p>Loading…</p>}
        {models?.length === 0 && <p data-testid='no-models'>No models yet. Download one by its CID above.</p>}
        {models != null && models.length > 0 && (
          <div className='table-wrap'>
            <table>
              <thead><tr><th scope='col'>Name</th><th scope='col'>Size</th><th scope='col'>CID</th><th scope='col'>State</th><th scope='col'><span className='sr-only'>Actions</span></th></tr></thead>
              <tbody>
                {models.map(m => {
                  const v = verifying[m.id]
                  return (
                    <tr key={m.id} data-testid={`model-${m.id}`}>
                      <td><strong>{m.name}</strong><div className='hint'>{m.kind}{m.quantization != null ? ` · ${m.quantization}` : ''}</div></td>
                      <td>{formatBytes(m.size_bytes)}</td>
                      <td><code className='cid'>{m.cid}</code></td>
                      <td>
                        <span className={m.verified ? 'badge ok' : 'badge bad'} data-testid='verified-state'>{m.verified ? 'Verified' : 'Not verified'}</span>
                        {v != null && v !== 'running' && !v.ok && <div className='field-error'>{v.error?.message}</div>}
                        {v != null && v !== 'running' && v.ok && <div className='hint'>Checked just now</div>}
                      </td>
                      <td className='actions'>
                        <button type='button' onClick={() => { void verify(m.id) }} disabled={v === 'running'}>{v === 'running' ? 'Verifying…' : 'Verify'}</button>
                        <button type='button' onClick={() => {
                          if (window.confirm(`Remove ${m.name}? Its files are deleted and its pin removed.`)) void act(async () => { await client().invoke('ipfs_remove_model', { id: m.id }); await refresh() })
                        }}>Remove</button>
                      </td>
                    </tr>
                  )
                })}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </section>
  )
}

function DownloadForm ({ onStarted, onError }: { onStarted: (d: DownloadView) => void, onError: (e: unknown) => void }): ReactNode {
  const [cid, setCid] = useState('')
  const [name, setName] = useState('')
  const [kind, setKind] = useState<ModelKind>('model')
  const [invalid, setInvalid] = useState<string | undefined>()

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    const c = cid.trim()
    if (!/^(Qm[1-9A-HJ-NP-Za-km-z]{44}|b[a-z2-7]{20,})$/.test(c)) {
      setInvalid('Enter a CID: Qm… (46 characters) or bafy…')
      return
    }
    setInvalid(undefined)
    try {
      onStarted(await client().invoke('ipfs_download_model', { cid: c, kind, ...(name.trim() !== '' ? { name: name.trim() } : {}) }))
      setCid('')
      setName('')
    } catch (err) {
      onError(err)
    }
  }

  return (
    <form className='card' onSubmit={(e) => { void submit(e) }} aria-labelledby='get-title' noValidate>
      <h2 id='get-title'>Download by CID</h2>
      <label htmlFor='cid'>CID</label>
      <input id='cid' value={cid} onChange={e => { setCid(e.target.value); setInvalid(undefined) }} placeholder='Qm… or bafy…' aria-invalid={invalid != null} aria-describedby='cid-help' autoComplete='off' spellCheck={false} />
      <p id='cid-help' className={invalid != null ? 'field-error' : 'hint'} role={invalid != null ? 'alert' : undefined}>{invalid ?? 'Fetched from your IPFS node, or from gateways when it does not have it.'}</p>
      <div className='row'>
        <div className='field'>
          <label htmlFor='model-name'>Name (optional)</label>
          <input id='model-name' value={name} onChange={e => setName(e.target.value)} placeholder='qwen2-0.5b' />
        </div>
        <div className='field narrow'>
          <label htmlFor='kind'>Kind</label>
          <select id='kind' value={kind} onChange={e => setKind(e.target.value as ModelKind)}>
            <option value='model'>Model</option><option value='dataset'>Dataset</option><option value='checkpoint'>Checkpoint</option><option value='asset'>Asset</option>
          </select>
        </div>
      </div>
      <button type='submit' className='primary'>Download</button>
    </form>
  )
}

function statusText (d: DownloadView): string {
  const s = d.progress.status
  return typeof s === 'string' ? s : 'Failed'
}

function DownloadRow ({ d, onPause, onResume, onCancel, onDismiss }: { d: DownloadView, onPause: () => void, onResume: () => void, onCancel: () => void, onDismiss: () => void }): ReactNode {
  const p = d.progress
  const status = statusText(d)
  const failed = d.error != null
  return (
    <div className='download' data-testid={`download-${d.id}`}>
      <div className='download-head'>
        <strong>{d.id}</strong>
        <span className='badge' data-testid='download-status'>{status}</span>
      </div>
      <ProgressBar value={p.downloaded_bytes} max={p.total_bytes > 0 ? p.total_bytes : undefined} label={`Download of ${d.id}`} />
      <p className='hint' data-testid='download-stats'>
        {formatBytes(p.downloaded_bytes)}{p.total_bytes > 0 ? ` of ${formatBytes(p.total_bytes)}` : ''}
        {status === 'Downloading' ? ` · ${p.speed_mbps.toFixed(1)} MB/s` : ''}
        {status === 'Downloading' && p.eta_seconds != null ? ` · ${Math.ceil(p.eta_seconds)} s left` : ''}
        {p.source != null ? ` · from ${p.source}` : ''}
      </p>
      {p.sources != null && p.sources.length > 0 && status !== 'Complete' && (
        <p className='hint' data-testid='download-sources'>
          {p.sources.map(s => `${s.name} ${formatBytes(s.bytes)}${s.state === 'active' ? ` ${s.speed_mbps.toFixed(1)} MB/s` : s.state === 'cooling' ? ' (resting)' : ' (dropped)'}`).join(' · ')}
        </p>
      )}
      {failed && <ErrorPanel error={Object.assign(new Error(d.error?.message), { code: d.error?.code })} />}
      <div className='row'>
        {!failed && status !== 'Paused' && <button type='button' onClick={onPause}>Pause</button>}
        {!failed && status === 'Paused' && <button type='button' onClick={onResume}>Resume</button>}
        {!failed && <button type='button' onClick={onCancel}>Cancel</button>}
        {failed && <button type='button' onClick={onDismiss}>Dismiss</button>}
      </div>
    </div>
  )
}
