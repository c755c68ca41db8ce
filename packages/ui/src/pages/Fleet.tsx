/**
 * The fleet: an IPFS Cluster (its peers, its pins with each peer's state,
 * pin with live per-peer progress, unpin) and, below, remote pinning
 * services. No cluster set up is a normal state, not an error: the page says
 * what a cluster is for and the one command that connects one.
 */
import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from 'react'
import { CommandError } from '@citrate-ipfs/client'
import { formatBytes, type ClusterPinView, type ClusterStatusView, type PeerPinStatus, type PinPeerState } from '@citrate-ipfs/contract'
import { client, useServiceEvents } from '../api.ts'
import { CommandLine, CopyableValue, ErrorPanel } from '../components.tsx'
import { RemotePinsSection } from './RemotePins.tsx'

const CONNECT_COMMAND = 'citrate-ipfs cluster connect <rest-api-url>'

/** Each peer state as a person reads it; `remote` means the cluster chose other peers to hold it. */
const STATE_LABELS: Record<PinPeerState, string> = {
  queued: 'Queued',
  pinning: 'Pinning',
  pinned: 'Pinned',
  remote: 'Held by other peers',
  unpinned: 'Not pinned',
  error: 'Error'
}

export function StateBadge ({ state, title }: { state: PinPeerState, title?: string }): ReactNode {
  const tone = state === 'pinned' ? ' ok' : state === 'error' ? ' bad' : ''
  return <span className={`badge${tone}`} title={title} data-state={state}>{STATE_LABELS[state]}</span>
}

/** Parses an optional replication field: '' is "the default", else an integer of -1 (every peer) or more. */
function replicationValue (raw: string): number | undefined {
  const t = raw.trim()
  return t === '' ? undefined : Number(t)
}

interface LivePin { cid: string, required?: number, pinned: number, peers: Record<string, PeerPinStatus> }

export function FleetPage (): ReactNode {
  const [status, setStatus] = useState<ClusterStatusView | undefined>()
  const [notConfigured, setNotConfigured] = useState(false)
  const [pins, setPins] = useState<ClusterPinView[] | undefined>()
  const [error, setError] = useState<unknown>()

  const refresh = useCallback(async () => {
    try {
      const s = await client().invoke('ipfs_cluster_status')
      setStatus(s)
      setNotConfigured(false)
      setPins((await client().invoke('ipfs_cluster_pins')).pins)
    } catch (err) {
      if (err instanceof CommandError && err.code === 'CLUSTER_NOT_CONFIGURED') {
        setNotConfigured(true)
        setStatus(undefined)
      } else {
        setError(err)
      }
    }
  }, [])
  useEffect(() => { void refresh() }, [refresh])

  return (
    <section aria-labelledby='fleet-title'>
      <h1 id='fleet-title'>Fleet</h1>
      <p className='lead'>Keep copies of your models on other machines: an IPFS Cluster replicates them across its peers, and pinning services keep them for you.</p>
      <div className='card' aria-labelledby='cluster-title'>
        <h2 id='cluster-title'>IPFS Cluster</h2>
        {status == null && !notConfigured && error == null && <p>Loading…</p>}
        {error != null && <ErrorPanel error={error} onDismiss={() => { setError(undefined); void refresh() }} />}
        {notConfigured && (
          <div data-testid='cluster-not-configured'>
            <p>No cluster is connected yet. An IPFS Cluster is a group of IPFS nodes that keep agreed copies of the same content: pin a model once and the cluster makes sure enough of its peers hold it, even when one goes away.</p>
            <p>To connect this app to a cluster, run this with the address of a cluster peer&apos;s REST API (port 9094 by default), then reload this page:</p>
            <CommandLine command={CONNECT_COMMAND} label='command that connects a cluster' testId='cluster-connect-command' />
          </div>
        )}
        {status != null && <ClusterPeers status={status} />}
      </div>
      {status != null && <ClusterPinForm onPinned={refresh} />}
      {status != null && <ClusterPins pins={pins} onChanged={refresh} />}
      <RemotePinsSection />
    </section>
  )
}

function ClusterPeers ({ status }: { status: ClusterStatusView }): ReactNode {
  return (
    <>
      <p className='hint' data-testid='cluster-summary'>
        <span className='truncate inline' title={status.url}>{status.url}</span> · IPFS Cluster {status.version} · {status.peers.length} {status.peers.length === 1 ? 'peer' : 'peers'}
      </p>
      <ul className='pins' aria-label='Cluster peers'>
        {status.peers.map(p => (
          <li key={p.id} data-testid={`peer-${p.peername}`}>
            <div>
              <strong>{p.peername !== '' ? p.peername : 'unnamed peer'}</strong>{p.id === status.self && <span className='hint'> (the peer this app talks to)</span>}
              <CopyableValue value={p.id} label={`cluster peer id of ${p.peername}`} />
              <div className='hint'>IPFS node (kubo){p.ipfs.version != null ? ` ${p.ipfs.version}` : ''}:</div>
              {p.ipfs.id !== '' ? <CopyableValue value={p.ipfs.id} label={`kubo peer id of ${p.peername}`} /> : <div className='hint'>not known</div>}
              {p.error != null && <p className='field-error'>This peer does not answer: {p.error}</p>}
            </div>
            <span className='badge' data-testid='peer-free-space'>{p.freeSpace != null ? `${formatBytes(p.freeSpace)} free` : 'free space unknown'}</span>
          </li>
        ))}
      </ul>
    </>
  )
}

function ClusterPinForm ({ onPinned }: { onPinned: () => Promise<void> }): ReactNode {
  const [cid, setCid] = useState('')
  const [name, setName] = useState('')
  const [min, setMin] = useState('')
  const [max, setMax] = useState('')
  const [live, setLive] = useState<LivePin | undefined>()
  const [done, setDone] = useState<string | undefined>()
  const [incomplete, setIncomplete] = useState<string | undefined>()
  const [error, setError] = useState<unknown>()

  useServiceEvents((e) => {
    if (e.event !== 'cluster-pin-progress') return
    const d = e.data
    setLive(l => {
      if (l == null || l.cid !== d.cid) return l
      if (d.type === 'citrate:cluster:peer') return { ...l, peers: { ...l.peers, [d.peer.peer]: d.peer } }
      if (d.type === 'citrate:cluster:requested') return { ...l, required: d.required }
      return { ...l, pinned: d.pinned, required: d.required }
    })
  })

  const pin = async (ev: FormEvent): Promise<void> => {
    ev.preventDefault()
    const c = cid.trim()
    if (c === '') return
    setError(undefined)
    setDone(undefined)
    setIncomplete(undefined)
    setLive({ cid: c, pinned: 0, peers: {} })
    try {
      const r = await client().invoke('ipfs_cluster_pin', {
        cid: c,
        ...(name.trim() !== '' ? { name: name.trim() } : {}),
        ...(replicationValue(min) != null ? { replicationMin: replicationValue(min) } : {}),
        ...(replicationValue(max) != null ? { replicationMax: replicationValue(max) } : {})
      })
      setLive({ cid: r.cid, required: r.required, pinned: r.pinned.length, peers: Object.fromEntries(r.peers.map(p => [p.peer, p])) })
      setDone(`Pinned on ${r.pinned.length} of the ${r.required} ${r.required === 1 ? 'peer' : 'peers'} required.`)
      setCid('')
      setName('')
    } catch (err) {
      if (err instanceof CommandError && err.code === 'REPLICATION_INCOMPLETE') {
        setIncomplete(err.message)
      } else {
        setLive(undefined)
        setError(err)
      }
    }
    await onPinned()
  }

  const running = live != null && done == null && incomplete == null && error == null
  const peers = live != null ? Object.values(live.peers) : []
  return (
    <form className='card' onSubmit={(e) => { void pin(e) }} aria-labelledby='cluster-pin-title'>
      <h2 id='cluster-pin-title'>Pin in the cluster</h2>
      <div className='row'>
        <div className='field'>
          <label htmlFor='cluster-cid'>CID</label>
          <input id='cluster-cid' value={cid} onChange={e => setCid(e.target.value)} placeholder='Qm… or bafy…' autoComplete='off' spellCheck={false} required />
        </div>
        <div className='field'>
          <label htmlFor='cluster-name'>Name (optional)</label>
          <input id='cluster-name' value={name} onChange={e => setName(e.target.value)} autoComplete='off' />
        </div>
      </div>
      <div className='row'>
        <div className='field narrow'>
          <label htmlFor='cluster-min'>Replicas at least</label>
          <input id='cluster-min' type='number' min={-1} step={1} value={min} onChange={e => setMin(e.target.value)} placeholder='default' />
        </div>
        <div className='field narrow'>
          <label htmlFor='cluster-max'>Replicas at most</label>
          <input id='cluster-max' type='number' min={-1} step={1} value={max} onChange={e => setMax(e.target.value)} placeholder='default' />
        </div>
      </div>
      <p className='hint'>Empty uses your default from citrate.toml; -1 means every peer.</p>
      <button type='submit' className='primary' disabled={running}>{running ? 'Pinning…' : 'Pin in the cluster'}</button>
      {live != null && (
        <div data-testid='cluster-pin-progress' role='status'>
          <p className='hint'>
            {live.required != null ? `${live.pinned} of ${live.required} required ${live.required === 1 ? 'replica' : 'replicas'} pinned` : 'Asking the cluster…'}
          </p>
          <ul className='pins' aria-label='Progress on each peer'>
            {peers.map(p => (
              <li key={p.peer} data-testid={`progress-${p.peername}`}>
                <span className='truncate'>{p.peername !== '' ? p.peername : p.peer}</span>
                <StateBadge state={p.state} title={p.error ?? p.status} />
              </li>
            ))}
          </ul>
        </div>
      )}
      {done != null && <p className='saved' role='status' data-testid='cluster-pin-done'>{done}</p>}
      {incomplete != null && (
        <div className='notice' role='status' data-testid='cluster-pin-incomplete'>
          <strong>Not enough peers have a copy yet.</strong>
          <p>The cluster accepted the pin, but fewer peers than you asked for finished pinning it in the time allowed. It keeps trying in the background: a peer may still be fetching a large model, or be offline. Check the pins below again later.</p>
          <details className='detail'><summary>Details</summary><p className='detail-text'>{incomplete}</p></details>
        </div>
      )}
      {error != null && <ErrorPanel error={error} onDismiss={() => setError(undefined)} />}
    </form>
  )
}

function ClusterPins ({ pins, onChanged }: { pins: ClusterPinView[] | undefined, onChanged: () => Promise<void> }): ReactNode {
  const [confirming, setConfirming] = useState<ClusterPinView | undefined>()
  const [done, setDone] = useState<string | undefined>()
  const [error, setError] = useState<unknown>()
  const unpin = async (p: ClusterPinView): Promise<void> => {
    setError(undefined)
    try {
      await client().invoke('ipfs_cluster_unpin', { cid: p.cid })
      setDone(`Unpinned ${p.name !== '' ? p.name : p.cid} from the cluster.`)
    } catch (err) {
      setError(err)
    }
    setConfirming(undefined)
    await onChanged()
  }
  return (
    <div className='card'>
      <h2>Pinned in the cluster</h2>
      {done != null && <p className='saved' role='status' data-testid='cluster-unpin-done'>{done}</p>}
      {error != null && <ErrorPanel error={error} onDismiss={() => setError(undefined)} />}
      {confirming != null && (
        <div className='notice' role='alertdialog' aria-labelledby='cluster-unpin-question' data-testid='cluster-unpin-confirm'>
          <strong id='cluster-unpin-question'>Unpin {confirming.name !== '' ? confirming.name : 'this CID'} from the whole cluster?</strong>
          <p>Every peer may then delete its copy. Copies on this computer and at pinning services stay.</p>
          <div className='row'>
            <button type='button' onClick={() => { void unpin(confirming) }}>Unpin from the cluster</button>
            <button type='button' onClick={() => setConfirming(undefined)}>Keep it</button>
          </div>
        </div>
      )}
      {pins == null && <p>Loading…</p>}
      {pins?.length === 0 && <p data-testid='no-cluster-pins'>Nothing is pinned in the cluster.</p>}
      {pins != null && pins.length > 0 && (
        <ul className='pins'>
          {pins.map(p => (
            <li key={p.cid} data-testid={`cluster-pin-${p.cid}`}>
              <div>
                {p.name !== '' && <strong className='truncate' title={p.name}>{p.name}</strong>}
                <CopyableValue value={p.cid} label={`cluster-pinned CID${p.name !== '' ? ` ${p.name}` : ''}`} />
                <ul className='peer-states' aria-label='State on each peer'>
                  {p.peers.map(s => (
                    <li key={s.peer} data-testid={`state-${s.peername}`}>
                      <span className='truncate'>{s.peername !== '' ? s.peername : s.peer}</span>
                      <StateBadge state={s.state} title={s.error ?? s.status} />
                    </li>
                  ))}
                </ul>
              </div>
              <button type='button' onClick={() => { setDone(undefined); setConfirming(p) }} aria-label={`Unpin ${p.name !== '' ? p.name : p.cid} from the cluster`}>Unpin</button>
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}
