/**
 * Names a pull gives what it writes, when the user gave none: a CID has no
 * name, but runtimes find models by file extension and people by a readable
 * id. A single file becomes `model.<ext>` with the extension its first bytes
 * show (formats/sniff.ts); the id is the GGUF header's `general.name` when
 * there is one, else the short CID — each only if free, else with the short
 * CID appended, else the full CID.
 */
import { describeContent, type ModelInfo } from '../formats/describe.ts'
import { FORMAT_EXTENSIONS, MODEL_FORMATS, type ModelFormat } from '../formats/sniff.ts'
import { modelIdFromName } from '../registry/model-id.ts'
import type { ModelRegistry } from '../registry/registry.ts'
import { pathExists } from '../util/fs.ts'

/** The file name a single-file pull without `filename` is saved under. */
export const DEFAULT_FILE_STEM = 'model'

/** `QmZKUQ-ZPZ2WB`: a CID's first and last six characters, as the issue tracker and the CLI show CIDs short. */
export function shortCidId (cid: string): string {
  return cid.length <= 16 ? cid : `${cid.slice(0, 6)}-${cid.slice(-6)}`
}

export interface ContentNaming {
  /** What the bytes say (formats/describe.ts): format, header fields, or why the header did not read. */
  info: ModelInfo
  /** `model.<ext>` for a file (undefined for a folder). */
  filename?: string
}

/** What the content at `path` (a verified file or folder) says, and the file name it calls for. */
export async function nameFromContent (path: string, type: 'file' | 'directory'): Promise<ContentNaming> {
  const info = await describeContent(path, type)
  if (type === 'directory') return { info }
  const format = (MODEL_FORMATS as readonly string[]).includes(info.format) ? info.format as ModelFormat : 'bin'
  return { info, filename: `${DEFAULT_FILE_STEM}.${FORMAT_EXTENSIONS[format]}` }
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
