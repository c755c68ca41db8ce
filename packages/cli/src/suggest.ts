/**
 * "Did you mean": the known name closest to what was typed, by Damerau–Levenshtein
 * distance (optimal string alignment: a swap of two neighbours counts as one
 * edit, so `plul` → `pull`). commander has the same idea built in but keeps it
 * private and phrases it its own way; this one serves commands, subcommands and
 * config keys alike.
 */

/** Edits (insert, delete, substitute, swap neighbours) from `a` to `b`. */
export function editDistance (a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => i === 0 ? j : j === 0 ? i : 0))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[]
      const up = d[i - 1] as number[]
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      row[j] = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1)
    }
  }
  return (d[a.length] as number[])[b.length] as number
}

/**
 * The known names closest to `typed` (several only on a tie), or none when
 * nothing is close: at most a third of the typed length in edits (one at least),
 * or a name that starts with what was typed (`conf` → `config`).
 */
export function suggest (typed: string, known: readonly string[]): string[] {
  const t = typed.toLowerCase()
  const limit = Math.max(1, Math.floor(t.length / 3))
  let best = Infinity
  let out: string[] = []
  for (const name of known) {
    const n = name.toLowerCase()
    const dist = t.length >= 2 && n.startsWith(t) ? 0.5 : editDistance(t, n)
    if (dist > limit && !(t.length >= 2 && n.startsWith(t))) continue
    if (dist < best) { best = dist; out = [name] } else if (dist === best && !out.includes(name)) out.push(name)
  }
  return out.slice(0, 3)
}

/** ` — did you mean "pull"?` (or `"a" or "b"`), or '' when nothing is close. */
export function didYouMean (typed: string, known: readonly string[]): string {
  const s = suggest(typed, known)
  return s.length === 0 ? '' : ` — did you mean ${s.map(x => `"${x}"`).join(' or ')}?`
}
