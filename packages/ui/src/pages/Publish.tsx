/**
 * Publish: a file or folder on this computer, named by its full path (the
 * service reads it; a webview has no paths to give), added to the local IPFS
 * node and pinned, with progress; the result is its CID with copy and share
 * links (ipfs:// and a gateway URL).
 */
import { useEffect, useState, type FormEvent, type ReactNode } from 'react'
import { formatBytes, type PublishProgress, type PublishView } from '@citrate-ipfs/contract'
import { client, useServiceEvents } from '../api.ts'
import { CopyableValue, ErrorPanel, ProgressBar } from '../components.tsx'
import { shareGateway } from './ModelDetails.tsx'

export function PublishPage (): ReactNode {
  const [path, setPath] = useState('')
  const [name, setName] = useState('')
  const [busy, setBusy] = useState<string | undefined>()
  const [progress, setProgress] = useState<PublishProgress | undefined>()
  const [result, setResult] = useState<PublishView | undefined>()
  const [error, setError] = useState<unknown>()
  const [gateway, setGateway] = useState<string | undefined>()

  useEffect(() => {
    void client().invoke('ipfs_get_config').then(c => setGateway(shareGateway(c.ipfs)), () => undefined)
  }, [])
  useServiceEvents((e) => { if (e.event === 'publish-progress' && e.data.path === busy) setProgress(e.data) })

  const submit = async (ev: FormEvent): Promise<void> => {
    ev.preventDefault()
    const p = path.trim()
    if (p === '') return
    setError(undefined)
    setResult(undefined)
    setProgress(undefined)
    setBusy(p)
    try {
      setResult(await client().invoke('ipfs_add', { path: p, ...(name.trim() !== '' ? { name: name.trim() } : {}) }))
    } catch (err) {
      setError(err)
    } finally {
      setBusy(undefined)
    }
  }

  return (
    <section aria-labelledby='publish-title'>
      <h1 id='publish-title'>Publish</h1>
      <p className='lead'>Share a model, dataset or any file or folder from this computer over IPFS. It is added to your IPFS node and pinned; others fetch it by its CID.</p>
      <form className='card' onSubmit={(e) => { void submit(e) }} aria-labelledby='publish-form-title'>
        <h2 id='publish-form-title'>File or folder</h2>
        <label htmlFor='publish-path'>Full path on this computer</label>
        <input id='publish-path' value={path} onChange={e => setPath(e.target.value)} placeholder='/home/me/models/qwen2-0.5b' aria-describedby='publish-path-help' autoComplete='off' spellCheck={false} />
        <p id='publish-path-help' className='hint'>The same CID as <code>ipfs add</code> with kubo's defaults. IPFS must be running (Setup page).</p>
        <div className='field'>
          <label htmlFor='publish-name'>Pin name (optional)</label>
          <input id='publish-name' value={name} onChange={e => setName(e.target.value)} placeholder='qwen2-0.5b' autoComplete='off' />
        </div>
        <button type='submit' className='primary' disabled={busy != null}>{busy != null ? 'Publishing…' : 'Publish'}</button>
        {busy != null && (
          <div data-testid='publish-progress' role='status'>
            <ProgressBar value={progress?.bytes ?? 0} max={progress != null && progress.total_bytes > 0 ? progress.total_bytes : undefined} label={`Publishing ${busy}`} />
            <p className='hint'>{progress != null ? `${formatBytes(progress.bytes)} of ${formatBytes(progress.total_bytes)}` : 'Reading…'}</p>
          </div>
        )}
      </form>
      {error != null && <ErrorPanel error={error} onDismiss={() => setError(undefined)} />}
      {result != null && (
        <div className='card' data-testid='publish-result' aria-labelledby='published-title'>
          <h2 id='published-title'>Published <span className='truncate inline' title={result.root_name}>{result.root_name}</span></h2>
          <p className='hint'>{result.is_directory ? 'Folder' : 'File'} · {formatBytes(result.size_bytes)} · {result.blocks} blocks · pinned</p>
          <dl className='facts'>
            <dt>CID</dt><dd><CopyableValue value={result.cid} label='published CID' testId='published-cid' /></dd>
            <dt>IPFS link</dt><dd><CopyableValue value={`ipfs://${result.cid}`} label='IPFS link' testId='published-ipfs' /></dd>
            {gateway != null && <><dt>Gateway link</dt><dd><CopyableValue value={`${gateway.replace(/\/+$/, '')}/ipfs/${result.cid}`} label='gateway link' testId='published-gateway' /></dd></>}
          </dl>
        </div>
      )}
    </section>
  )
}
