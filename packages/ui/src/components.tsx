import { useEffect, useRef, useState, type ReactNode } from 'react'
import { explain } from './api.ts'

/**
 * An error in plain words first (what happened, what to do), with the raw
 * message of the layer that failed behind a "Details" disclosure: people read
 * the first two lines, a bug report wants the third.
 */
/** Codes whose message is about what the person typed (it names the value): shown as it is, not folded away. */
const INPUT_CODES: ReadonlySet<string> = new Set(['INVALID_ARGUMENT', 'CONFIG_INVALID', 'INVALID_CID', 'INVALID_MODEL_ID', 'UNSAFE_NAME'])

export function ErrorPanel ({ error, onDismiss, hint }: { error: unknown, onDismiss?: () => void, hint?: string }): ReactNode {
  const e = explain(error)
  const code = (error as { code?: unknown } | null)?.code
  const plain = typeof code === 'string' && INPUT_CODES.has(code)
  return (
    <div className='error' role='alert'>
      <strong>{e.title}</strong>
      {plain && <p className='detail-text' data-testid='error-message'>{e.detail}</p>}
      <p><span className='next'>What to do:</span> {hint ?? e.hint}</p>
      {!plain && e.detail !== '' && (
        <details className='detail'>
          <summary>Details</summary>
          <p className='detail-text'>{e.detail}</p>
        </details>
      )}
      {onDismiss != null && <button type='button' onClick={onDismiss}>Dismiss</button>}
    </div>
  )
}

/** A determinate bar when the total is known; `still` (a failed or cancelled download) drops the animation of an indeterminate one. */
export function ProgressBar ({ value, max, label, still = false }: { value: number, max: number | undefined, label: string, still?: boolean }): ReactNode {
  const pct = max != null && max > 0 ? Math.min(100, (value / max) * 100) : undefined
  // An indeterminate <progress> animates forever; a stopped download shows where it stopped (0 when nothing was known).
  const shown = pct ?? (still ? 0 : undefined)
  return (
    <div className={still ? 'progress still' : 'progress'}>
      <progress aria-label={label} value={shown} max={100} />
      <span className='progress-text'>{pct != null ? `${pct.toFixed(0)}%` : ''}</span>
    </div>
  )
}

/** Copies text: the async clipboard where the page may use it, else a hidden textarea and execCommand (older webviews). */
async function copyText (text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text)
    return
  } catch { /* fall back below */ }
  const area = document.createElement('textarea')
  area.value = text
  area.setAttribute('readonly', '')
  area.style.position = 'fixed'
  area.style.opacity = '0'
  document.body.append(area)
  area.select()
  document.execCommand('copy')
  area.remove()
}

/** A small button that copies `value`; says "Copied" for two seconds (announced to screen readers). */
export function CopyButton ({ value, label }: { value: string, label: string }): ReactNode {
  const [copied, setCopied] = useState(false)
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)
  useEffect(() => () => clearTimeout(timer.current), [])
  return (
    <button type='button' className='copy' aria-label={`Copy ${label}`} title={`Copy ${label}`} onClick={() => {
      void copyText(value).then(() => {
        setCopied(true)
        clearTimeout(timer.current)
        timer.current = setTimeout(() => setCopied(false), 2000)
      })
    }}>
      {copied ? <CheckIcon /> : <CopyIcon />}
      <span className='sr-only' role='status'>{copied ? 'Copied' : ''}</span>
    </button>
  )
}

/**
 * A long value (a CID, a name, a path) cut to its box with an ellipsis. The
 * full value is the hover title, and the element is focusable with the full
 * value as its accessible name, so keyboard and screen-reader users get it too.
 */
export function Truncated ({ value, label, code = false, className }: { value: string, label: string, code?: boolean, className?: string }): ReactNode {
  const Tag = code ? 'code' : 'span'
  return <Tag className={`truncate${className != null ? ` ${className}` : ''}`} title={value} tabIndex={0} aria-label={`${label}: ${value}`}>{value}</Tag>
}

/** A truncated value with its copy button, on one line that never pushes the layout wider. */
export function CopyableValue ({ value, label, code = true, testId }: { value: string, label: string, code?: boolean, testId?: string }): ReactNode {
  return (
    <span className='copyable' data-testid={testId}>
      <Truncated value={value} label={label} code={code} />
      <CopyButton value={value} label={label} />
    </span>
  )
}

/** A command to run in a terminal, shown whole (wrapped, never cut: it is meant to be read) with its copy button. */
export function CommandLine ({ command, label, testId }: { command: string, label: string, testId?: string }): ReactNode {
  return (
    <div className='command-line' data-testid={testId}>
      <code>{command}</code>
      <CopyButton value={command} label={label} />
    </div>
  )
}

/** Icons as inline SVG: no icon font to load, and they render the same in every webview. */
function CopyIcon (): ReactNode {
  return (
    <svg aria-hidden='true' width='14' height='14' viewBox='0 0 16 16' fill='none' stroke='currentColor' strokeWidth='1.6'>
      <rect x='5.5' y='5.5' width='8' height='8' rx='1.5' /><path d='M10.5 3.5v-.5a1.5 1.5 0 0 0-1.5-1.5H4A1.5 1.5 0 0 0 2.5 3v5A1.5 1.5 0 0 0 4 9.5h.5' />
    </svg>
  )
}
function CheckIcon (): ReactNode {
  return <svg aria-hidden='true' width='14' height='14' viewBox='0 0 16 16' fill='none' stroke='currentColor' strokeWidth='2'><path d='M3 8.5l3 3 7-7' /></svg>
}
