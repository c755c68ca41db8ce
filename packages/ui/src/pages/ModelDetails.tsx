/**
 * One model, as `ollama show` tells it: what its bytes say (format,
 * architecture, parameters, quantization, context…), its CID with copy and
 * share links (ipfs:// and a gateway URL), where it lives on disk, the pins
 * that keep it, its verification, and Verify / Remove.
 */
import { useCallback, useEffect, useState, type ReactNode } from 'react'
import type { ModelEntry, PinView, VerifyOutcome } from '@citrate-ipfs/client'
import { formatBytes } from '@citrate-ipfs/contract'
import { client } from '../api.ts'
import { CopyableValue, ErrorPanel } from '../components.tsx'
import { formatParameters } from './Models.tsx'

interface Loaded { model: ModelEntry | undefined, pins: PinView[] | undefined, gateway: string | undefined, localGateway: string | undefined }

/** The gateway a share link names: the user's own, else the fallback, else the first public one, else ipfs.io. */
export function shareGateway (ipfs: Record<string, unknown>): string {
  for (const k of ['external_gateway', 'fallback_gateway'] as const) {
    const v = ipfs[k]
    if (typeof v === 'string' && v !== '') return v
  }
  const list = ipfs.public_gateways
  if (Array.isArray(list) && typeof list[0] === 'string') return list[0]
  return 'https://ipfs.io'
}

export function ModelDetailsPage ({ id }: { id: string }): ReactNode {
  const [loaded, setLoaded] = useState<Loaded | undefined>()
  const [error, setError] = useState<unknown>()
  const [verify, setVerify] = useState<{ at: Date, outcome: VerifyOutcome } | 'running' | undefined>()

  const refresh = useCallback(async () => {
    try {
      const [{ models }, config, status] = await Promise.all([client().invoke('ipfs_list_models'), client().invoke('ipfs_get_config'), client().invoke('ipfs_check_status')])
      // Pins need the daemon; without it they are unknown rather than an error.
      const pins = status.running ? (await client().invoke('ipfs_get_pins')).pins : undefined
      setLoaded({ model: models.find(m => m.id === id), pins, gateway: shareGateway(config.ipfs), localGateway: status.running ? status.gatewayUrl : undefined })
    } catch (err) {
      setError(err)
    }
  }, [id])
  useEffect(() => { void refresh() }, [refresh])

  const runVerify = async (): Promise<void> => {
    setVerify('running')
    setError(undefined)
    try {
      setVerify({ at: new Date(), outcome: await client().invoke('ipfs_verify_model', { id }) })
      await refresh()
    } catch (err) {
      setVerify(undefined)
      setError(err)
    }
  }
  const remove = async (m: ModelEntry): Promise<void> => {
    if (!window.confirm(`Remove ${m.name}? Its files are deleted and its pin removed.`)) return
    try {
      await client().invoke('ipfs_remove_model', { id })
      window.location.hash = '#/models'
    } catch (err) {
      setError(err)
    }
  }

  const m = loaded?.model
  return (
    <section aria-labelledby='model-title'>
      <p><a href='#/models'>← Models</a></p>
      {loaded == null && error == null && <p>Loading…</p>}
      {loaded != null && m == null && <p data-testid='model-missing'>There is no model “{id}” in your library.</p>}
      {error != null && <ErrorPanel error={error} onDismiss={() => setError(undefined)} />}
      {m != null && (
        <>
          <h1 id='model-title' className='truncate' title={m.name}>{m.name}</h1>
          <p className='lead'>{m.kind} · {formatBytes(m.size_bytes)}{m.info?.format != null ? ` · ${m.info.format}` : ''}</p>
          <div className='card'>
            <h2>About</h2>
            <dl className='facts' data-testid='model-info'>
              {infoFacts(m).map(([k, v]) => <Fact key={k} term={k}>{v}</Fact>)}
            </dl>
            {m.info?.header_error != null && <p className='field-error'>The header could not be read: {m.info.header_error}. The bytes are still the verified content.</p>}
          </div>
          <div className='card'>
            <h2>Content and sharing</h2>
            <dl className='facts'>
              <Fact term='CID'><CopyableValue value={m.cid} label='CID' testId='detail-cid' /></Fact>
              <Fact term='IPFS link'><CopyableValue value={`ipfs://${m.cid}`} label='IPFS link' testId='share-ipfs' /></Fact>
              {loaded?.gateway != null && <Fact term='Gateway link'><CopyableValue value={`${loaded.gateway.replace(/\/+$/, '')}/ipfs/${m.cid}`} label='gateway link' testId='share-gateway' /></Fact>}
              {loaded?.localGateway != null && <Fact term='On this computer'><CopyableValue value={`${loaded.localGateway.replace(/\/+$/, '')}/ipfs/${m.cid}`} label='local gateway link' testId='share-local' /></Fact>}
              <Fact term='Path'><CopyableValue value={m.path} label='path' testId='detail-path' /></Fact>
              <Fact term='Source'>{m.source}{m.source_url != null ? <> · <CopyableValue value={m.source_url} label='source URL' code={false} /></> : null}</Fact>
              <Fact term='Downloaded'>{new Date(m.downloaded_at).toLocaleString()}</Fact>
            </dl>
          </div>
          <div className='card'>
            <h2>Pins</h2>
            {m.pin_pending === true && <p className='hint'>Waiting to be pinned: it is pinned the next time IPFS starts.</p>}
            {loaded?.pins == null && <p className='hint' data-testid='pins-unknown'>IPFS is not running, so its pins cannot be read. Start it on the Setup page.</p>}
            {loaded?.pins != null && (
              <ul className='pins' data-testid='model-pins'>
                {loaded.pins.filter(p => p.models.includes(m.id)).map(p => (
                  <li key={p.cid}><div><CopyableValue value={p.cid} label='pinned CID' /><div className='hint'>{p.name ?? 'unnamed'} · {p.type}</div></div></li>
                ))}
                {!loaded.pins.some(p => p.models.includes(m.id)) && <li data-testid='not-pinned'>Not pinned: IPFS may garbage-collect its blocks (the files in the library stay).</li>}
              </ul>
            )}
          </div>
          <div className='card'>
            <h2>Verification</h2>
            <p data-testid='verification'>
              <span className={m.verified ? 'badge ok' : 'badge bad'}>{m.verified ? 'Verified' : 'Not verified'}</span>{' '}
              {verify == null && (m.verified ? `Checked against its CID when it was stored (${new Date(m.downloaded_at).toLocaleString()}).` : 'The last check found it does not match its CID.')}
              {verify === 'running' && 'Checking every byte against the CID…'}
              {verify != null && verify !== 'running' && (verify.outcome.ok
                ? `Checked ${verify.at.toLocaleTimeString()}: every byte matches${verify.outcome.bytes != null ? ` (${formatBytes(verify.outcome.bytes)})` : ''}.`
                : `Checked ${verify.at.toLocaleTimeString()}: ${verify.outcome.error?.message ?? 'it does not match its CID'}.`)}
            </p>
            <div className='row'>
              <button type='button' onClick={() => { void runVerify() }} disabled={verify === 'running'}>{verify === 'running' ? 'Verifying…' : 'Verify'}</button>
              <button type='button' onClick={() => { void remove(m) }}>Remove</button>
            </div>
          </div>
        </>
      )}
    </section>
  )
}

function Fact ({ term, children }: { term: string, children: ReactNode }): ReactNode {
  return <><dt>{term}</dt><dd>{children}</dd></>
}

/** The info fields present, in the order a model card lists them. */
function infoFacts (m: ModelEntry): Array<[string, string]> {
  const i = m.info
  const facts: Array<[string, string | number | undefined | null]> = [
    ['Format', i?.format],
    ['Architecture', i?.architecture ?? i?.model_type],
    ['Declared name', i?.name],
    ['Parameters', i?.parameter_count != null ? `${formatParameters(i.parameter_count)} (${i.parameter_count.toLocaleString('en-US')})` : undefined],
    ['Quantization', i?.quantization ?? m.quantization],
    ['Context length', i?.context_length?.toLocaleString('en-US')],
    ['Embedding length', i?.embedding_length?.toLocaleString('en-US')],
    ['Layers', i?.block_count],
    ['Tokenizer', i?.tokenizer_model],
    ['Data types', i?.dtypes?.join(', ') ?? i?.torch_dtype],
    ['Tensors', i?.tensor_count],
    ['Architectures', i?.architectures?.join(', ')],
    ['License', i?.license]
  ]
  const shown = facts.filter((f): f is [string, string | number] => f[1] != null && f[1] !== '').map(([k, v]): [string, string] => [k, String(v)])
  return shown.length > 0 ? shown : [['Format', 'unknown (nothing readable in its header)']]
}
