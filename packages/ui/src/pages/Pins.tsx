/** Pins: what the local node keeps, which models each pin backs; pin by CID with progress, unpin. */
import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from 'react'
import { CommandError, type PinView } from '@citrate-ipfs/client'
import { formatBytes, KUBO_EMPTY_FOLDER_CID } from '@citrate-ipfs/contract'
import { client, useServiceEvents } from '../api.ts'
import { CopyableValue, ErrorPanel } from '../components.tsx'

export function PinsPage (): ReactNode {
  const [pins, setPins] = useState<PinView[] | undefined>()
  const [error, setError] = useState<unknown>()
  const [cid, setCid] = useState('')
  const [pinning, setPinning] = useState<{ cid: string, blocks: number, bytes?: number } | undefined>()
  const [inUse, setInUse] = useState<string | undefined>()
  const [done, setDone] = useState<string | undefined>()

  const refresh = useCallback(async () => {
    try {
      setPins((await client().invoke('ipfs_get_pins')).pins)
    } catch (err) {
      setError(err)
    }
  }, [])
  useEffect(() => { void refresh() }, [refresh])
  useServiceEvents((e) => { if (e.event === 'pin-progress' && !e.data.done) setPinning(e.data) })

  const pin = async (ev: FormEvent): Promise<void> => {
    ev.preventDefault()
    setError(undefined)
    setDone(undefined)
    const c = cid.trim()
    if (c === '') return
    setPinning({ cid: c, blocks: 0 })
    try {
      const r = await client().invoke('ipfs_pin', { cid: c })
      setDone(r.alreadyPinned ? `${r.cid} was already pinned.` : `Pinned ${r.cid} (${r.blocks} blocks${r.bytes != null ? `, ${formatBytes(r.bytes)}` : ''}).`)
      setCid('')
      await refresh()
    } catch (err) {
      setError(err)
    } finally {
      setPinning(undefined)
    }
  }

  const unpin = async (target: string, force = false): Promise<void> => {
    setError(undefined)
    setDone(undefined)
    try {
      await client().invoke('ipfs_unpin', { cid: target, force })
      setInUse(undefined)
      setDone(`Unpinned ${target}.`)
      await refresh()
    } catch (err) {
      if (err instanceof CommandError && err.code === 'PIN_IN_USE') setInUse(target)
      else setError(err)
    }
  }

  return (
    <section aria-labelledby='pins-title'>
      <h1 id='pins-title'>Pins</h1>
      <p className='lead'>Pinned content stays on this computer and is never garbage-collected by IPFS.</p>
      <form className='card' onSubmit={(e) => { void pin(e) }} aria-labelledby='pin-form-title'>
        <h2 id='pin-form-title'>Pin a CID</h2>
        <label htmlFor='pin-cid'>CID</label>
        <div className='row'>
          <input id='pin-cid' value={cid} onChange={e => setCid(e.target.value)} placeholder='Qm… or bafy…' autoComplete='off' spellCheck={false} />
          <button type='submit' className='primary' disabled={pinning != null}>{pinning != null ? 'Pinning…' : 'Pin'}</button>
        </div>
        {pinning != null && <p className='hint' role='status' data-testid='pin-progress'>Fetching blocks: {pinning.blocks}{pinning.bytes != null ? ` (${formatBytes(pinning.bytes)})` : ''}</p>}
        {done != null && <p className='saved' role='status' data-testid='pin-done'>{done}</p>}
      </form>
      {inUse != null && (
        <div className='error' role='alert'>
          <strong>A model in your library relies on this pin.</strong>
          <p>Unpinning lets IPFS delete its blocks; the model's own files stay until you remove the model.</p>
          <div className='row'>
            <button type='button' onClick={() => { void unpin(inUse, true) }}>Unpin anyway</button>
            <button type='button' onClick={() => setInUse(undefined)}>Keep the pin</button>
          </div>
        </div>
      )}
      {error != null && <ErrorPanel error={error} onDismiss={() => setError(undefined)} />}
      <div className='card'>
        <h2>Pinned</h2>
        {pins == null && error == null && <p>Loading…</p>}
        {pins?.length === 0 && <p data-testid='no-pins'>Nothing is pinned.</p>}
        {pins != null && pins.length > 0 && (
          <ul className='pins'>
            {pins.map(p => {
              // kubo pins an empty folder in every new repo; it is not the user's content, and unpinning it gains nothing.
              const builtin = p.cid === KUBO_EMPTY_FOLDER_CID
              return (
                <li key={p.cid} data-testid={`pin-${p.cid}`}>
                  <div>
                    <CopyableValue value={p.cid} label={builtin ? 'CID of the empty folder' : `pinned CID${p.name != null ? ` ${p.name}` : ''}`} />
                    <div className='hint'>
                      {builtin ? 'empty folder (kubo built-in)' : <>{p.name != null ? `${p.name} · ` : ''}{p.models.length > 0 ? `backs ${p.models.join(', ')}` : 'not used by a model'}</>}
                      {p.size_bytes != null && <span data-testid='pin-size'> · {formatBytes(p.size_bytes)}</span>}
                    </div>
                  </div>
                  {!builtin && <button type='button' onClick={() => { void unpin(p.cid) }} aria-label={`Unpin ${p.name ?? p.cid}`}>Unpin</button>}
                </li>
              )
            })}
          </ul>
        )}
      </div>
    </section>
  )
}
