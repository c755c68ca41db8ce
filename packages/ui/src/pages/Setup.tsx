/** The seed's IPFS Setup flow: checking → install (with progress) → start → running; plus the external gateway form. */
import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from 'react'
import type { InstallProgress, IpfsStatus } from '@citrate-ipfs/client'
import { formatBytes } from '@citrate-ipfs/contract'
import { client, useServiceEvents } from '../api.ts'
import { ErrorPanel, ProgressBar } from '../components.tsx'

type Busy = 'installing' | 'starting' | 'stopping' | undefined

export function SetupPage (): ReactNode {
  const [status, setStatus] = useState<IpfsStatus | undefined>()
  const [busy, setBusy] = useState<Busy>()
  const [error, setError] = useState<unknown>()
  const [install, setInstall] = useState<InstallProgress | undefined>()

  const refresh = useCallback(async () => {
    try {
      setStatus(await client().invoke('ipfs_check_status'))
    } catch (err) {
      setError(err)
    }
  }, [])

  useEffect(() => { void refresh() }, [refresh])
  useEffect(() => {
    if (status?.state !== 'Starting') return
    const t = setInterval(() => { void refresh() }, 1000)
    return () => clearInterval(t)
  }, [status?.state, refresh])

  useServiceEvents((e) => {
    if (e.event === 'install-progress') setInstall(e.data)
    if (e.event === 'status') setStatus(e.data)
  })

  const run = async (what: Exclude<Busy, undefined>, fn: () => Promise<unknown>): Promise<void> => {
    setBusy(what)
    setError(undefined)
    try {
      await fn()
    } catch (err) {
      setError(err)
    } finally {
      setBusy(undefined)
      setInstall(undefined)
      await refresh()
    }
  }

  return (
    <section aria-labelledby='setup-title'>
      <h1 id='setup-title'>IPFS setup</h1>
      <p className='lead'>Citrate stores and shares AI models over IPFS. This page gets your local IPFS node (kubo) installed and running.</p>
      <div className='card' data-testid='setup-card' aria-live='polite'>
        {status == null && error == null && <p data-testid='state-checking'>Checking IPFS…</p>}
        {status != null && <StateView status={status} busy={busy} install={install}
          onInstall={() => { void run('installing', () => client().invoke('ipfs_install', {})) }}
          onStart={() => { void run('starting', () => client().invoke('ipfs_start_daemon')) }}
          onStop={() => { void run('stopping', () => client().invoke('ipfs_stop_daemon')) }}
        />}
        {error != null && <ErrorPanel error={error} onDismiss={() => setError(undefined)} />}
      </div>
      <GatewayForm />
    </section>
  )
}

function StateView ({ status, busy, install, onInstall, onStart, onStop }: {
  status: IpfsStatus
  busy: Busy
  install: InstallProgress | undefined
  onInstall: () => void
  onStart: () => void
  onStop: () => void
}): ReactNode {
  if (busy === 'installing') {
    return (
      <div data-testid='state-installing'>
        <h2>Installing IPFS…</h2>
        <InstallSteps progress={install} />
      </div>
    )
  }
  switch (status.state) {
    case 'NotInstalled':
      return (
        <div data-testid='state-not-installed'>
          <h2>IPFS is not installed</h2>
          <p>Citrate will download kubo, the reference IPFS node, check its checksum, and install it in your Citrate folder. Nothing else on your system is changed.</p>
          <button type='button' className='primary' onClick={onInstall}>Install IPFS</button>
        </div>
      )
    case 'Stopped':
      return (
        <div data-testid='state-stopped'>
          <h2>IPFS is installed but not running</h2>
          <p>{status.kuboVersion != null ? `kubo ${status.kuboVersion} is ready. ` : ''}Start it to download, share and pin models.</p>
          <button type='button' className='primary' onClick={onStart} disabled={busy === 'starting'}>{busy === 'starting' ? 'Starting…' : 'Start IPFS'}</button>
        </div>
      )
    case 'Starting':
      return <div data-testid='state-starting'><h2>IPFS is starting…</h2><p>This usually takes a few seconds.</p></div>
    case 'Running':
      return (
        <div data-testid='state-running'>
          <h2><span className='dot ok' aria-hidden='true' /> IPFS is running</h2>
          <dl className='facts'>
            <dt>Peer ID</dt><dd><code data-testid='peer-id'>{status.peerId}</code></dd>
            <dt>Version</dt><dd>kubo {status.kuboVersion}</dd>
            <dt>RPC</dt>
            <dd data-testid='rpc-protected'>{status.rpcProtected === false
              ? 'unprotected: this daemon was started outside Citrate, so any program on this computer can control it. Stop and start IPFS here to lock it.'
              : 'locked to Citrate'}
            </dd>
            <dt>Addresses</dt>
            <dd>{(status.addresses ?? []).length === 0
              ? <span>none: the node is offline (no network routing)</span>
              : <ul className='addresses'>{status.addresses?.map(a => <li key={a}><code>{a}</code></li>)}</ul>}
            </dd>
          </dl>
          <button type='button' onClick={onStop} disabled={busy === 'stopping'}>{busy === 'stopping' ? 'Stopping…' : 'Stop IPFS'}</button>
        </div>
      )
    case 'Error':
      return (
        <div data-testid='state-error'>
          <h2><span className='dot bad' aria-hidden='true' /> IPFS has a problem</h2>
          <p>{status.error?.message}</p>
          {status.error?.logTail != null && status.error.logTail !== '' && <details><summary>Last log lines</summary><pre>{status.error.logTail}</pre></details>}
          <button type='button' className='primary' onClick={onStart}>Start IPFS again</button>
        </div>
      )
  }
}

function InstallSteps ({ progress }: { progress: InstallProgress | undefined }): ReactNode {
  if (progress == null) return <p>Preparing…</p>
  switch (progress.type) {
    case 'citrate:install:resolve': return <p>Found kubo {progress.version}. Downloading…</p>
    case 'citrate:install:download':
      return (
        <div data-testid='install-progress'>
          <p>Downloading: {formatBytes(progress.downloadedBytes)}{progress.totalBytes != null ? ` of ${formatBytes(progress.totalBytes)}` : ''}</p>
          <ProgressBar value={progress.downloadedBytes} max={progress.totalBytes} label='Download progress' />
        </div>
      )
    case 'citrate:install:verify': return <p>Checking the download's checksum…</p>
    case 'citrate:install:extract': return <p>Installing…</p>
    case 'citrate:install:done': return <p>Installed kubo {progress.version}.</p>
    case 'citrate:install:failed': return <p>Install failed.</p>
  }
}

/** The seed's external gateway form: https required (http only on this machine). */
function GatewayForm (): ReactNode {
  const [url, setUrl] = useState('')
  const [saved, setSaved] = useState<string | undefined>()
  const [invalid, setInvalid] = useState<string | undefined>()
  const [error, setError] = useState<unknown>()

  useEffect(() => {
    client().invoke('ipfs_get_config').then(c => setUrl(String(c.ipfs.external_gateway ?? ''))).catch(setError)
  }, [])

  const check = (value: string): string | undefined => {
    if (value.trim() === '') return undefined
    let u: URL
    try { u = new URL(value.trim()) } catch { return 'Enter a full URL, like https://gateway.example.com' }
    const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname)
    if (u.protocol === 'https:' || (u.protocol === 'http:' && loopback)) return undefined
    return 'The gateway must use https:// (http:// is allowed only for this computer)'
  }

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    setSaved(undefined)
    setError(undefined)
    const problem = check(url)
    setInvalid(problem)
    if (problem != null) return
    try {
      // The service refuses whitespace in a URL; what the user pasted around it is not part of it.
      const r = await client().invoke('ipfs_configure_gateway', { url: url.trim() })
      setUrl(r.external_gateway)
      setSaved(r.external_gateway === '' ? 'Saved: no external gateway.' : `Saved. Downloads will use ${r.external_gateway} after your local node.`)
    } catch (err) {
      setError(err)
    }
  }

  return (
    <form className='card' onSubmit={(e) => { void submit(e) }} aria-labelledby='gw-title' noValidate>
      <h2 id='gw-title'>External gateway</h2>
      <p>Optional. A gateway of your own that Citrate may fetch from when your local node does not have a model. Every block from a gateway is verified against its CID.</p>
      <label htmlFor='gateway-url'>Gateway URL</label>
      <div className='row'>
        <input id='gateway-url' name='gateway-url' type='url' inputMode='url' placeholder='https://gateway.example.com'
          value={url} onChange={e => { setUrl(e.target.value); setInvalid(undefined); setSaved(undefined) }}
          aria-invalid={invalid != null} aria-describedby='gateway-help' />
        <button type='submit' className='primary'>Save</button>
      </div>
      <p id='gateway-help' className={invalid != null ? 'field-error' : 'hint'} role={invalid != null ? 'alert' : undefined}>{invalid ?? 'Leave empty to use only your node and the public fallback.'}</p>
      {saved != null && <p className='saved' role='status' data-testid='gateway-saved'>{saved}</p>}
      {error != null && <ErrorPanel error={error} onDismiss={() => setError(undefined)} />}
    </form>
  )
}
