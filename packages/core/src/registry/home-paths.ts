/**
 * Paths the registry (and a model's metadata.json) store: relative to
 * CITRATE_HOME with `/` separators when inside it, as in the seed
 * (`models/qwen2.5-coder-7b/model.gguf`), so a home that moves — another
 * disk, a restored backup, another user name — keeps every entry working.
 * Content registered from elsewhere (`add` of a folder outside the home)
 * keeps its absolute path. In memory every path is absolute.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path'

/** The stored form of an absolute path: relative to `home` when inside it, else unchanged. */
export function toStoredPath (home: string, path: string): string {
  if (!isAbsolute(path)) return path
  const rel = relative(resolve(home), resolve(path))
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return path
  return rel.split(sep).join('/')
}

/** The absolute path of a stored one (a relative one is under `home`). */
export function fromStoredPath (home: string, stored: string): string {
  return isAbsolute(stored) ? stored : resolve(home, ...stored.split('/'))
}

/** Why a stored relative path is unusable (it would leave the home), or undefined. */
export function storedPathProblem (stored: string): string | undefined {
  if (isAbsolute(stored)) return undefined
  const parts = stored.split(/[/\\]/)
  if (parts.some(p => p === '..' || p === '')) return 'a relative path must name a place inside CITRATE_HOME (no "..", no empty segments)'
  return undefined
}
