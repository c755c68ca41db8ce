/** Models: the registry, download by CID with live progress (pause/resume/cancel), verify and remove. */
import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from 'react'
import type { DownloadView, ModelEntry, ModelKind, VerifyOutcome } from '@citrate-ipfs/client'
import { formatBytes } from '@citrate-ipfs/contract'
import { client, useServiceEvents } from '../api.ts'
import { CopyableValue, ErrorPanel } from '../components.tsx'
import { DownloadRow, useSituation } from '../downloads.tsx'

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
  // Re-read whether IPFS runs and gateways are set whenever a download ends badly, so its hint fits.
  const situation = useSituation(active.filter(d => d.error != null).map(d => d.id).join(' '))
  return (
    <section aria-labelledby='models-title'>
      <h1 id='models-title'>Models</h1>
      <p className='lead'>Models, datasets, checkpoints and assets stored on this computer. Every download is checked block by block against its CID.</p>
      <DownloadForm onStarted={(d) => setDownloads(prev => ({ ...prev, [d.id]: d }))} onError={setError} />
      {active.length > 0 && (
        <div className='card' aria-labelledby='dl-title'>
          <h2 id='dl-title'>Downloads</h2>
          {active.map(d => <DownloadRow key={d.id} d={d} situation={situation} on={{
            pause: () => { void act(() => client().invoke('ipfs_pause_download', { id: d.id })) },
            resume: () => { void act(() => client().invoke('ipfs_resume_download', { id: d.id })) },
            cancel: () => { void act(async () => { await client().invoke('ipfs_cancel_download', { id: d.id }); await refresh() }) },
            retry: () => { void act(async () => { const v = await client().invoke('ipfs_retry_download', { id: d.id }); setDownloads(prev => ({ ...prev, [v.id]: v })) }) },
            dismiss: () => {
              void act(async () => {
                await client().invoke('ipfs_dismiss_download', { id: d.id })
                setDownloads(prev => { const { [d.id]: _gone, ...rest } = prev; return rest })
              })
            }
          }} />)}
        </div>
      )}
      {error != null && <ErrorPanel error={error} onDismiss={() => setError(undefined)} />}
      <div className='card'>
        <h2>Library</h2>
        {models == null && <p>Loading…</p>}
        {models?.length === 0 && <p data-testid='no-models'>No models yet. Download one by its CID above.</p>}
        {models != null && models.length > 0 && (
          <table className='library'>
            <thead><tr><th scope='col'>Name</th><th scope='col'>Size</th><th scope='col'>CID</th><th scope='col'>State</th><th scope='col'><span className='sr-only'>Actions</span></th></tr></thead>
            <tbody>
              {models.map(m => {
                const v = verifying[m.id]
                return (
                  <tr key={m.id} data-testid={`model-${m.id}`}>
                    <td className='col-name'>
                      <a className='truncate model-link' href={`#/models/${encodeURIComponent(m.id)}`} title={m.name} aria-label={`Details of ${m.name}`}>{m.name}</a>
                      <div className='hint truncate'>{m.kind}{modelFacts(m)}</div>
                    </td>
                    <td className='col-size' data-label='Size'>{formatBytes(m.size_bytes)}</td>
                    <td className='col-cid' data-label='CID'><CopyableValue value={m.cid} label={`CID of ${m.name}`} /></td>
                    <td className='col-state' data-label='State'>
                      <span className={m.verified ? 'badge ok' : 'badge bad'} data-testid='verified-state'>{m.verified ? 'Verified' : 'Not verified'}</span>
                      {v != null && v !== 'running' && !v.ok && <div className='field-error'>{v.error?.message}</div>}
                      {v != null && v !== 'running' && v.ok && <div className='hint'>Checked just now</div>}
                    </td>
                    <td className='actions'>
                      <button type='button' onClick={() => { void verify(m.id) }} disabled={v === 'running'} aria-label={`Verify ${m.name}`}>{v === 'running' ? 'Verifying…' : 'Verify'}</button>
                      <button type='button' aria-label={`Remove ${m.name}`} onClick={() => {
                        if (window.confirm(`Remove ${m.name}? Its files are deleted and its pin removed.`)) void act(async () => { await client().invoke('ipfs_remove_model', { id: m.id }); await refresh() })
                      }}>Remove</button>
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        )}
      </div>
    </section>
  )
}

function DownloadForm ({ onStarted, onError }: { onStarted: (d: DownloadView) => void, onError: (e: unknown) => void }): ReactNode {
  const [cid, setCid] = useState('')
  const [name, setName] = useState('')
  const [filename, setFilename] = useState('')
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
      onStarted(await client().invoke('ipfs_download_model', { cid: c, kind, ...(name.trim() !== '' ? { name: name.trim() } : {}), ...(filename.trim() !== '' ? { filename: filename.trim() } : {}) }))
      setCid('')
      setName('')
      setFilename('')
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
        <div className='field'>
          <label htmlFor='model-filename'>File name (optional)</label>
          <input id='model-filename' value={filename} onChange={e => setFilename(e.target.value)} placeholder='qwen2-0.5b-q4_k_m.gguf' aria-describedby='filename-help' autoComplete='off' spellCheck={false} />
          <span id='filename-help' className='hint'>For a single file: the name it is saved under (default: from its content).</span>
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

/** What the model's bytes say, in a few words for the list: architecture, parameters, quantization. */
export function modelFacts (m: ModelEntry): string {
  const parts: string[] = []
  const arch = m.info?.architecture ?? m.info?.model_type
  if (arch != null) parts.push(arch)
  if (m.info?.parameter_count != null) parts.push(`${formatParameters(m.info.parameter_count)} parameters`)
  const q = m.info?.quantization ?? m.quantization
  if (q != null) parts.push(q)
  return parts.map(p => ` · ${p}`).join('')
}

/** 494032768 → "494M", 7241732096 → "7.2B" (as model cards write them). */
export function formatParameters (n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(n >= 1e10 ? 0 : 1)}B`
  if (n >= 1e6) return `${(n / 1e6).toFixed(0)}M`
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)}K`
  return String(n)
}
