import type { ReactNode } from 'react'
import { explain } from './api.ts'

export function ErrorPanel ({ error, onDismiss }: { error: unknown, onDismiss?: () => void }): ReactNode {
  const e = explain(error)
  return (
    <div className='error' role='alert'>
      <strong>{e.title}</strong>
      <p className='detail'>{e.detail}</p>
      <p><span className='next'>What to do:</span> {e.hint}</p>
      {onDismiss != null && <button type='button' onClick={onDismiss}>Dismiss</button>}
    </div>
  )
}

export function ProgressBar ({ value, max, label }: { value: number, max: number | undefined, label: string }): ReactNode {
  const pct = max != null && max > 0 ? Math.min(100, (value / max) * 100) : undefined
  return (
    <div className='progress'>
      <progress aria-label={label} value={pct ?? undefined} max={100} />
      <span className='progress-text'>{pct != null ? `${pct.toFixed(0)}%` : ''}</span>
    </div>
  )
}
