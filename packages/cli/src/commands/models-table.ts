/**
 * The `models` list as a table people read: a header row, columns as wide as
 * their widest cell, and — on a terminal — ids cut with an ellipsis so every
 * row fits the width instead of wrapping. Without a terminal (a pipe, a
 * file) nothing is cut: scripts get whole ids (or use --json).
 */
import type { ModelEntry } from '@citrate-ipfs/core'
import { formatBytes } from '@citrate-ipfs/contract/plain'

export const MODEL_COLUMNS = ['ID', 'KIND', 'SIZE', 'QUANT', 'ARCH', 'VERIFIED', 'PINNED', 'MODIFIED'] as const

/** An id is never cut shorter than this (plus the ellipsis): a row too wide even then wraps. */
export const MIN_ID_WIDTH = 8
const GAP = '  '
const ELLIPSIS = '…'

export interface ModelRow {
  entry: ModelEntry
  /** true / false from the daemon's pins; undefined when the daemon could not be asked. */
  pinned: boolean | undefined
}

/** The rows as text lines: header first. `width`: the terminal's columns, or undefined for no cutting. */
export function modelTable (rows: readonly ModelRow[], width?: number): string[] {
  const cells = rows.map(r => cellsOf(r))
  const widths = MODEL_COLUMNS.map((h, i) => Math.max(h.length, ...cells.map(c => (c[i] as string).length)))
  if (width != null && width > 0) {
    const rest = widths.slice(1).reduce((a, b) => a + b + GAP.length, 0)
    const room = width - rest
    if ((widths[0] as number) > room) widths[0] = Math.max(MIN_ID_WIDTH + ELLIPSIS.length, room)
  }
  const line = (c: readonly string[]): string => c.map((v, i) => {
    const w = widths[i] as number
    const text = v.length > w ? v.slice(0, w - ELLIPSIS.length) + ELLIPSIS : v
    // SIZE is right-aligned (numbers compare by eye); the last column is not padded.
    return i === 2 ? text.padStart(w) : i === c.length - 1 ? text : text.padEnd(w)
  }).join(GAP).trimEnd()
  return [line(MODEL_COLUMNS), ...cells.map(line)]
}

function cellsOf ({ entry: m, pinned }: ModelRow): string[] {
  return [
    m.id,
    m.kind,
    formatBytes(m.size_bytes),
    clean(m.quantization ?? m.info?.quantization ?? '-'),
    clean(m.info?.architecture ?? '-'),
    m.verified ? 'yes' : 'NO',
    m.pin_pending === true ? 'pending' : pinned == null ? '?' : pinned ? 'yes' : 'no',
    modified(m.downloaded_at)
  ]
}

/** Header strings come from the model's bytes: no control characters reach the terminal, and no cell runs long. */
function clean (s: string): string {
  // eslint-disable-next-line no-control-regex
  const t = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')
  return t.length > 24 ? t.slice(0, 23) + ELLIPSIS : t
}

/** `2026-12-03 06:40` in local time. */
function modified (iso: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return '-'
  const p = (n: number): string => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`
}
