/**
 * Settings: every [ipfs] key of citrate.toml with what it does, edited and
 * saved through the service (core validates each value and writes the file
 * atomically, other sections untouched). A refused value is marked on its
 * field with core's message, which names the key and the value; keys that
 * take effect only after a daemon restart say so.
 */
import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from 'react'
import { CommandError, type ConfigView } from '@citrate-ipfs/client'
import { client } from '../api.ts'
import { ErrorPanel } from '../components.tsx'

type Draft = Record<string, string | boolean>

/** How a value is edited: a checkbox, a number, one entry per line, or text. */
function kindOf (value: unknown): 'boolean' | 'number' | 'list' | 'text' {
  if (typeof value === 'boolean') return 'boolean'
  if (typeof value === 'number') return 'number'
  if (Array.isArray(value)) return 'list'
  return 'text'
}

function toDraft (value: unknown): string | boolean {
  if (typeof value === 'boolean') return value
  if (Array.isArray(value)) return value.join('\n')
  return String(value ?? '')
}

/** The draft as the value to send: a number where the text is one (else the text, for core to refuse by name), a list from lines. */
function fromDraft (original: unknown, draft: string | boolean): unknown {
  const kind = kindOf(original)
  if (kind === 'boolean') return draft
  const text = String(draft)
  if (kind === 'number') return text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text
  if (kind === 'list') return text.split(/\r?\n/).map(s => s.trim()).filter(s => s !== '')
  return text
}

export function SettingsPage (): ReactNode {
  const [view, setView] = useState<ConfigView | undefined>()
  const [draft, setDraft] = useState<Draft>({})
  const [error, setError] = useState<unknown>()
  const [invalid, setInvalid] = useState<{ key: string, message: string } | undefined>()
  const [saved, setSaved] = useState<{ changed: string[], restartNeeded: string[] } | undefined>()
  const [saving, setSaving] = useState(false)

  const load = useCallback(async () => {
    try {
      const v = await client().invoke('ipfs_get_config')
      setView(v)
      setDraft(Object.fromEntries(Object.entries(v.ipfs).map(([k, val]) => [k, toDraft(val)])))
    } catch (err) {
      setError(err)
    }
  }, [])
  useEffect(() => { void load() }, [load])

  const changes = (): Record<string, unknown> => {
    if (view == null) return {}
    const out: Record<string, unknown> = {}
    for (const [k, d] of Object.entries(draft)) {
      if (d !== toDraft(view.ipfs[k])) out[k] = fromDraft(view.ipfs[k], d)
    }
    return out
  }

  const save = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    setError(undefined)
    setInvalid(undefined)
    setSaved(undefined)
    const values = changes()
    if (Object.keys(values).length === 0) { setSaved({ changed: [], restartNeeded: [] }); return }
    setSaving(true)
    try {
      const r = await client().invoke('ipfs_set_config', { values })
      setSaved({ changed: r.changed, restartNeeded: r.restartNeeded })
      setView(r)
      setDraft(Object.fromEntries(Object.entries(r.ipfs).map(([k, val]) => [k, toDraft(val)])))
    } catch (err) {
      // Core's message names the key (`ipfs.<key> = … is invalid: …`): mark that field.
      const key = err instanceof CommandError && err.code === 'CONFIG_INVALID' ? /ipfs\.([a-z_]+)/.exec(err.message)?.[1] : undefined
      if (key != null && err instanceof CommandError && Object.hasOwn(draft, key)) {
        setInvalid({ key, message: err.message })
        document.getElementById(`set-${key}`)?.focus()
      } else {
        setError(err)
      }
    } finally {
      setSaving(false)
    }
  }

  const keys = view?.keys ?? Object.keys(view?.ipfs ?? {}).map(key => ({ key, description: '', restart: false }))
  return (
    <section aria-labelledby='settings-title'>
      <h1 id='settings-title'>Settings</h1>
      <p className='lead'>The <code>[ipfs]</code> section of <code className='truncate inline' title={view?.configFile}>{view?.configFile ?? 'citrate.toml'}</code>. Each value is checked before anything is written; the rest of the file is kept as it is.</p>
      {error != null && <ErrorPanel error={error} onDismiss={() => setError(undefined)} />}
      {view == null && error == null && <p>Loading…</p>}
      {view != null && (
        <form className='card settings' onSubmit={(e) => { void save(e) }} noValidate aria-labelledby='settings-title'>
          {invalid != null && <p className='field-error' role='alert' data-testid='settings-invalid'>Not saved: {invalid.message}</p>}
          {keys.map(({ key, description, restart }) => {
            const kind = kindOf(view.ipfs[key])
            const value = draft[key]
            const bad = invalid?.key === key
            const help = `set-${key}-help`
            const onText = (v: string): void => { setDraft(d => ({ ...d, [key]: v })); if (bad) setInvalid(undefined) }
            return (
              <div className='setting' key={key} data-testid={`setting-${key}`}>
                {kind === 'boolean'
                  ? (
                    <label className='check' htmlFor={`set-${key}`}>
                      <input id={`set-${key}`} type='checkbox' checked={value === true} onChange={e => setDraft(d => ({ ...d, [key]: e.target.checked }))} aria-describedby={help} />
                      <code>{key}</code>
                    </label>
                    )
                  : <label htmlFor={`set-${key}`}><code>{key}</code></label>}
                {kind === 'list' && <textarea id={`set-${key}`} rows={Math.max(2, String(value).split('\n').length)} value={String(value)} onChange={e => onText(e.target.value)} aria-describedby={help} aria-invalid={bad} spellCheck={false} />}
                {(kind === 'text' || kind === 'number') && <input id={`set-${key}`} value={String(value)} inputMode={kind === 'number' ? 'decimal' : undefined} onChange={e => onText(e.target.value)} aria-describedby={help} aria-invalid={bad} autoComplete='off' spellCheck={false} />}
                <p id={help} className='hint'>
                  {description}{kind === 'list' ? ' (one per line)' : ''}
                  {restart && <> · <span className='badge restart'>needs an IPFS restart</span></>}
                </p>
                {bad && <p className='field-error'>{invalid.message}</p>}
              </div>
            )
          })}
          <div className='row sticky-save'>
            <button type='submit' className='primary' disabled={saving}>{saving ? 'Saving…' : 'Save'}</button>
            {saved != null && (
              <p className='saved' role='status' data-testid='settings-saved'>
                {saved.changed.length === 0 ? 'Nothing changed.' : `Saved ${saved.changed.join(', ')}.`}
                {saved.restartNeeded.length > 0 && ` Stop and start IPFS on the Setup page for ${saved.restartNeeded.join(', ')} to take effect.`}
              </p>
            )}
          </div>
        </form>
      )}
    </section>
  )
}
