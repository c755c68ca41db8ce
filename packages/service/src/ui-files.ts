/**
 * Where the served UI's files come from: a built folder (`packages/ui/dist`), or the
 * assets embedded in a single executable (`npm run package` stores every file of that
 * folder as a SEA asset named `ui/<relative path>`). Both answer the same question —
 * the bytes at a relative URL path, or undefined — so the server has one code path.
 */
import { readFile, stat } from 'node:fs/promises'
import { join, normalize, resolve, sep } from 'node:path'

export interface UiFiles {
  /** Where the files come from, for messages. */
  readonly origin: string
  /** The file at a URL path such as `/assets/index.js` (already without query), or undefined. */
  read: (urlPath: string) => Promise<Buffer | undefined>
}

/** The asset key prefix `npm run package` uses (tools/package/package.mjs). */
export const SEA_UI_PREFIX = 'ui/'

export function uiFromDir (dir: string): UiFiles {
  const root = resolve(dir)
  return {
    origin: root,
    read: async (urlPath) => {
      const file = normalize(join(root, urlPath))
      if (!file.startsWith(root + sep)) return undefined
      const st = await stat(file).catch(() => undefined)
      if (st == null || !st.isFile()) return undefined
      return await readFile(file)
    }
  }
}

interface SeaModule { isSea: () => boolean, getAsset: (key: string) => ArrayBuffer, getAssetKeys?: () => string[] }

/** The UI embedded in this single executable; undefined on plain Node or when the executable has none. */
export function uiFromSea (): UiFiles | undefined {
  const sea = process.getBuiltinModule('node:sea') as SeaModule | undefined
  if (sea == null || !sea.isSea()) return undefined
  const has = (key: string): boolean => {
    try { sea.getAsset(key); return true } catch { return false }
  }
  if (!has(`${SEA_UI_PREFIX}index.html`)) return undefined
  return {
    origin: 'the embedded UI',
    read: async (urlPath) => {
      // Asset keys are exact strings: normalise to one canonical key and refuse anything that climbs.
      const parts = urlPath.split('/').filter(p => p !== '')
      if (parts.some(p => p === '..' || p === '.' || p.includes('\\'))) return undefined
      try {
        return Buffer.from(sea.getAsset(SEA_UI_PREFIX + parts.join('/')))
      } catch {
        return undefined
      }
    }
  }
}
