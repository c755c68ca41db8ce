/**
 * In-page notifications for downloads that finish while the app is open, on
 * whichever page is showing: a download can take an hour, and nobody watches
 * its bar. Only completions seen live are announced (a reload lists finished
 * ones without a toast). Each toast stays until closed or for 15 seconds, and
 * is announced politely to screen readers.
 */
import { useRef, useState, type ReactNode } from 'react'
import { formatBytes } from '@citrate-ipfs/contract'
import { useServiceEvents } from './api.ts'

interface Toast { key: string, text: string, href?: string }
const SHOW_MS = 15_000

export function Toasts (): ReactNode {
  const [toasts, setToasts] = useState<Toast[]>([])
  /** Downloads seen running through the event stream: only those get a toast when they complete. */
  const running = useRef(new Set<string>())
  const close = (key: string): void => setToasts(t => t.filter(x => x.key !== key))
  useServiceEvents((e) => {
    if (e.event !== 'download-progress') return
    const d = e.data
    if (d.model == null) {
      if (d.error == null) running.current.add(d.id)
      else running.current.delete(d.id)
      return
    }
    if (!running.current.delete(d.id)) return
    const key = `${d.id}-${Date.now()}`
    setToasts(t => [...t, { key, text: `Downloaded ${d.model?.name ?? d.id} (${formatBytes(d.model?.size_bytes ?? 0)}), verified against its CID.`, href: `#/models/${encodeURIComponent(d.model?.id ?? d.id)}` }])
    setTimeout(() => close(key), SHOW_MS)
  })
  return (
    <div className='toasts' role='status' aria-live='polite'>
      {toasts.map(t => (
        <div className='toast' key={t.key} data-testid='toast'>
          <span>{t.text}{t.href != null && <> <a href={t.href} style={{ color: '#ffd7a8' }}>Open</a></>}</span>
          <button type='button' aria-label='Close notification' onClick={() => close(t.key)}>×</button>
        </div>
      ))}
    </div>
  )
}
