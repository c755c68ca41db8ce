/**
 * Names a pull gives what it writes, when the user gave none: a CID has no
 * name, but runtimes find models by file extension and people by a readable
 * id. A single file becomes `model.<ext>` with the extension its first bytes
 * show (formats/sniff.ts); the id is the GGUF header's `general.name` when
 * there is one, else the short CID — each only if free, else with the short
 * CID appended, else the full CID.
 */
import { FORMAT_EXTENSIONS, sniffFile, type ModelFormat } from '../formats/sniff.ts'
import { readGgufHeader, type GgufSummary } from '../formats/gguf.ts'
import { logger } from '../log.ts'
import { modelIdFromName } from '../registry/model-id.ts'
import type { ModelRegistry } from '../registry/registry.ts'
import { pathExists } from '../util/fs.ts'

const log = logger('pull')

/** The file name a single-file pull without `filename` is saved under. */
export const DEFAULT_FILE_STEM = 'model'

/** `QmZKUQ-ZPZ2WB`: a CID's first and last six characters, as the issue tracker and the CLI show CIDs short. */
export function shortCidId (cid: string): string {
  return cid.length <= 16 ? cid : `${cid.slice(0, 6)}-${cid.slice(-6)}`
}

export interface ContentNaming {
  format?: ModelFormat
  /** `model.<ext>` for a file (undefined for a folder). */
  filename?: string
  /** The GGUF header, when the file is a GGUF and it reads. */
  gguf?: GgufSummary
  /** Why the GGUF header was not read (malformed, hostile): the pull goes on without it. */
  ggufError?: string
}

/** What the content at `path` (a verified file or folder) calls for: its format, default file name and GGUF header. */
export async function nameFromContent (path: string, type: 'file' | 'directory'): Promise<ContentNaming> {
  if (type === 'directory') return {}
  const format = await sniffFile(path)
  const naming: ContentNaming = { format, filename: `${DEFAULT_FILE_STEM}.${FORMAT_EXTENSIONS[format]}` }
  if (format === 'gguf') {
    try {
      naming.gguf = await readGgufHeader(path)
    } catch (err) {
      naming.ggufError = (err as Error).message
      log('%s: %s', path, naming.ggufError)
    }
  }
  return naming
}

/**
 * The first free id for content `cid` named `readable` (or nothing):
 * `readable`, `readable-<short cid>`, then the short CID and the full CID.
 * Free means no registry entry has it and no folder of that name exists.
 */
export async function freeModelId (registry: ModelRegistry, cid: string, readable: string | undefined, dirOf: (id: string) => string): Promise<string> {
  const candidates: string[] = []
  const short = shortCidId(cid)
  if (readable != null && readable.trim() !== '') {
    try {
      const base = modelIdFromName(readable)
      candidates.push(base, modelIdFromName(`${base.slice(0, 100)}-${short}`))
    } catch { /* a name that makes no id (a reserved device name): the CID instead */ }
  }
  candidates.push(short, cid)
  const taken = new Set((await registry.list()).map(m => m.id))
  for (const id of candidates) {
    if (!taken.has(id) && !await pathExists(dirOf(id))) return id
  }
  return cid
}
