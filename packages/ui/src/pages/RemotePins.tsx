/**
 * Remote pinning services (the IPFS Pinning Service API: Pinata, Filebase, an
 * IPFS Cluster's own endpoint…): the configured services — never their
 * tokens, only whether one is stored —, their pins with status, and "pin
 * remotely" with live status from remote-pin-progress events.
 */
import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from 'react'
import type { RemotePinStatus, RemotePinView, RemoteServiceView } from '@citrate-ipfs/contract'
import { client, useServiceEvents } from '../api.ts'
import { CommandLine, CopyableValue, ErrorPanel } from '../components.tsx'

const ADD_COMMAND = 'citrate-ipfs remote service add <name> <endpoint> --token-stdin < token.txt'

const STATUS_LABELS: Record<RemotePinStatus, string> = { queued: 'Queued', pinning: 'Pinning', pinned: 'Pinned', failed: 'Failed' }

function StatusBadge ({ status }: { status: RemotePinStatus }): ReactNode {
  const tone = status === 'pinned' ? ' ok' : status === 'failed' ? ' bad' : ''
  return <span className={`badge${tone}`} data-state={status}>{STATUS_LABELS[status]}</span>
}

export function RemotePinsSection (): ReactNode {
  const [services, setServices] = useState<RemoteServiceView[] | undefined>()
  const [pins, setPins] = useState<RemotePinView[] | undefined>()
  const [error, setError] = useState<unknown>()
  const [pinsError, setPinsError] = useState<unknown>()

  const refresh = useCallback(async () => {
    try {
      const s = (await client().invoke('ipfs_remote_services')).services
      setServices(s)
      if (s.length === 0) return
      try {
        setPins((await client().invoke('ipfs_remote_pins')).pins)
        setPinsError(undefined)
      } catch (err) {
        setPinsError(err)
      }
    } catch (err) {
      setError(err)
    }
  }, [])
  useEffect(() => { void refresh() }, [refresh])

  return (
    <>
      <div className='card' aria-labelledby='remote-title'>
        <h2 id='remote-title'>Pinning services</h2>
        {error != null && <ErrorPanel error={error} />}
        {services == null && error == null && <p>Loading…</p>}
        {services?.length === 0 && (
          <div data-testid='no-remote-services'>
            <p>No pinning service is set up. A pinning service (such as Pinata, Filebase, or an IPFS Cluster&apos;s own endpoint) keeps a copy of your content on its servers, fetching it from this computer.</p>
            <p>To add one, run:</p>
            <CommandLine command={ADD_COMMAND} label='command that adds a pinning service' testId='remote-add-command' />
          </div>
        )}
        {services != null && services.length > 0 && (
          <ul className='pins' aria-label='Pinning services'>
            {services.map(s => (
              <li key={s.name} data-testid={`remote-service-${s.name}`}>
                <div>
                  <strong>{s.name}</strong>
                  <span className='truncate hint' title={s.endpoint}>{s.endpoint}</span>
                </div>
                <span className={s.hasToken ? 'badge ok' : 'badge'} data-testid='remote-token'>{s.hasToken ? 'token stored' : 'no token'}</span>
              </li>
            ))}
          </ul>
        )}
      </div>
      {services != null && services.length > 0 && <RemotePinForm services={services} onPinned={refresh} />}
      {services != null && services.length > 0 && (
        <div className='card'>
          <h2>Pinned remotely</h2>
          {pinsError != null && <ErrorPanel error={pinsError} />}
          {pins == null && pinsError == null && <p>Loading…</p>}
          {pins?.length === 0 && <p data-testid='no-remote-pins'>Nothing is pinned at your pinning services.</p>}
          {pins != null && pins.length > 0 && <RemotePinList pins={pins} onChanged={refresh} />}
        </div>
      )}
    </>
  )
}

function RemotePinList ({ pins, onChanged }: { pins: RemotePinView[], onChanged: () => Promise<void> }): ReactNode {
  const [confirming, setConfirming] = useState<RemotePinView | undefined>()
  const [error, setError] = useState<unknown>()
  const remove = async (p: RemotePinView): Promise<void> => {
    setError(undefined)
    try {
      await client().invoke('ipfs_remote_unpin', { cid: p.cid, service: p.service })
    } catch (err) {
      setError(err)
    }
    setConfirming(undefined)
    await onChanged()
  }
  return (
    <>
      {error != null && <ErrorPanel error={error} onDismiss={() => setError(undefined)} />}
      {confirming != null && (
        <div className='notice' role='alertdialog' aria-labelledby='remote-unpin-question'>
          <strong id='remote-unpin-question'>Remove {confirming.name ?? 'this CID'} from {confirming.service}?</strong>
          <p>The service may then delete its copy.</p>
          <div className='row'>
            <button type='button' onClick={() => { void remove(confirming) }}>Remove from {confirming.service}</button>
            <button type='button' onClick={() => setConfirming(undefined)}>Keep it</button>
          </div>
        </div>
      )}
      <ul className='pins'>
        {pins.map(p => (
          <li key={`${p.service}/${p.requestid}`} data-testid={`remote-pin-${p.cid}`}>
            <div>
              {p.name != null && p.name !== '' && <strong className='truncate' title={p.name}>{p.name}</strong>}
              <CopyableValue value={p.cid} label={`remotely pinned CID${p.name != null ? ` ${p.name}` : ''}`} />
              <div className='hint'>at {p.service}</div>
            </div>
            <div className='pin-side'>
              <StatusBadge status={p.status} />
              <button type='button' onClick={() => setConfirming(p)} aria-label={`Remove ${p.name ?? p.cid} from ${p.service}`}>Remove</button>
            </div>
          </li>
        ))}
      </ul>
    </>
  )
}

function RemotePinForm ({ services, onPinned }: { services: RemoteServiceView[], onPinned: () => Promise<void> }): ReactNode {
  const [cid, setCid] = useState('')
  const [service, setService] = useState(services[0]?.name ?? '')
  const [live, setLive] = useState<{ cid: string, service: string, status?: RemotePinStatus } | undefined>()
  const [done, setDone] = useState<string | undefined>()
  const [error, setError] = useState<unknown>()

  useServiceEvents((e) => {
    if (e.event !== 'remote-pin-progress') return
    setLive(l => l != null && l.cid === e.data.cid && l.service === e.data.service ? { ...l, status: e.data.status } : l)
  })

  const pin = async (ev: FormEvent): Promise<void> => {
    ev.preventDefault()
    const c = cid.trim()
    if (c === '') return
    setError(undefined)
    setDone(undefined)
    setLive({ cid: c, service })
    try {
      const r = await client().invoke('ipfs_remote_pin', { cid: c, service })
      setDone(`Pinned at ${r.service}.`)
      setCid('')
    } catch (err) {
      setError(err)
    }
    setLive(undefined)
    await onPinned()
  }

  return (
    <form className='card' onSubmit={(e) => { void pin(e) }} aria-labelledby='remote-pin-title'>
      <h2 id='remote-pin-title'>Pin remotely</h2>
      <div className='row'>
        <div className='field'>
          <label htmlFor='remote-cid'>CID</label>
          <input id='remote-cid' value={cid} onChange={e => setCid(e.target.value)} placeholder='Qm… or bafy…' autoComplete='off' spellCheck={false} required />
        </div>
        <div className='field narrow'>
          <label htmlFor='remote-service'>Service</label>
          <select id='remote-service' value={service} onChange={e => setService(e.target.value)}>
            {services.map(s => <option key={s.name} value={s.name}>{s.name}</option>)}
          </select>
        </div>
      </div>
      <p className='hint'>Keep IPFS running until it is pinned: the service fetches the content from this computer.</p>
      <button type='submit' className='primary' disabled={live != null}>{live != null ? 'Pinning…' : 'Pin remotely'}</button>
      {live != null && (
        <p className='hint' role='status' data-testid='remote-pin-progress'>
          {live.service}: {live.status != null ? <StatusBadge status={live.status} /> : 'sending the request…'}
        </p>
      )}
      {done != null && <p className='saved' role='status' data-testid='remote-pin-done'>{done}</p>}
      {error != null && <ErrorPanel error={error} onDismiss={() => setError(undefined)} />}
    </form>
  )
}
