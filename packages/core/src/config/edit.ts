/**
 * Line-level edits of the `[ipfs]` table of citrate.toml. A person's file keeps
 * its comments, blank lines, key order and other tables byte for byte: only the
 * line (or the lines of a multi-line value) of a changed key is rewritten, and
 * a new key is added after the table's last key. smol-toml has no
 * format-keeping writer, so this edits text; `updateIpfsConfig` parses the
 * result and falls back to rewriting the whole table when the file is written
 * in a way this cannot edit in place (dotted `ipfs.x` keys, an inline table).
 */
import { parse, stringify } from 'smol-toml'

/** One TOML value as it is written after `key = `. */
export function tomlValue (value: unknown): string {
  return stringify({ v: value }).replace(/^v = /, '').trim()
}

const HEADER = /^\s*\[/
const IPFS_HEADER = /^\s*\[\s*ipfs\s*\]\s*(#.*)?$/

function keyLine (key: string): RegExp {
  const k = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return new RegExp(`^(\\s*)(${k}|"${k}"|'${k}')\\s*=`)
}

/**
 * Returns `text` with each key of `updates` set in its `[ipfs]` table, or
 * undefined when the file has no plain `[ipfs]` table but mentions ipfs some
 * other way (the caller rewrites the table then).
 */
export function editIpfsSection (text: string, updates: Readonly<Record<string, unknown>>): string | undefined {
  const eol = text.includes('\r\n') ? '\r\n' : '\n'
  const lines = text === '' ? [] : text.split(/\r?\n/)
  // A final newline leaves an empty last element: kept as it is.
  let header = lines.findIndex(l => IPFS_HEADER.test(l))
  if (header === -1) {
    if (/^\s*\[\s*ipfs\s*[.\]]/m.test(text) || /^\s*ipfs\s*[.=]/m.test(text)) return undefined
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
    if (lines.length > 0) lines.push('')
    lines.push('[ipfs]')
    header = lines.length - 1
    lines.push('')
  }
  for (const [key, value] of Object.entries(updates)) {
    const end = sectionEnd(lines, header)
    const re = keyLine(key)
    const at = lines.slice(header + 1, end).findIndex(l => re.test(l))
    if (at === -1) {
      // After the table's last key, so comments and blank lines before the next table stay with it.
      let last = header
      for (let i = header + 1; i < end; i++) if (!/^\s*(#.*)?$/.test(lines[i] ?? '')) last = i
      lines.splice(last + 1, 0, `${key} = ${tomlValue(value)}`)
      continue
    }
    const start = header + 1 + at
    const span = valueSpan(lines, start, end)
    if (span === undefined) return undefined
    const indent = re.exec(lines[start] ?? '')?.[1] ?? ''
    lines.splice(start, span.count, `${indent}${key} = ${tomlValue(value)}${span.comment}`)
  }
  const out = lines.join(eol)
  return out.endsWith(eol) || out === '' ? out : out + eol
}

/** The index of the line after the table that starts at `header`. */
function sectionEnd (lines: readonly string[], header: number): number {
  for (let i = header + 1; i < lines.length; i++) if (HEADER.test(lines[i] ?? '')) return i
  return lines.length
}

/**
 * How many lines the key/value at `start` takes (a multi-line array or string
 * takes several) and the comment that ends it, found as the shortest run of
 * lines that parses on its own.
 */
function valueSpan (lines: readonly string[], start: number, end: number): { count: number, comment: string } | undefined {
  for (let count = 1; start + count <= end; count++) {
    const chunk = lines.slice(start, start + count).join('\n')
    if (!parses(chunk)) continue
    return { count, comment: trailingComment(chunk) }
  }
  return undefined
}

function parses (toml: string): boolean {
  try {
    parse(toml)
    return true
  } catch {
    return false
  }
}

/** ` # why` at the end of a one-line key/value: the first `#` after which the line still parses without it. */
function trailingComment (keyValue: string): string {
  if (keyValue.includes('\n')) return ''
  for (let i = keyValue.indexOf('#'); i !== -1; i = keyValue.indexOf('#', i + 1)) {
    const before = keyValue.slice(0, i)
    if (parses(before)) return ' ' + keyValue.slice(i).trimEnd()
  }
  return ''
}
