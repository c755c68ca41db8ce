/**
 * A pull of a CID this machine already holds under another id fetches
 * nothing: the verified bytes of that entry are cloned into the new id's
 * folder, re-proved against the CID with the existing entry's DAG index, and
 * committed the usual way (write aside, verify, move into place, register
 * last). A source that no longer proves (bit rot, an edited file) is never
 * propagated: it is marked unverified and the pull fetches as usual.
 *
 * How a file is cloned, best first:
 *  1. a reflink (`COPYFILE_FICLONE_FORCE`: btrfs, XFS, APFS): no space used,
 *     and the two copies are independent from then on;
 *  2. a hard link (same filesystem): no space used; the two ids share one
 *     inode. Fine for model files, which are read-only once verified; an
 *     in-place edit of one would show in both, and `models verify` of either
 *     finds it. Removing one id unlinks only its own name;
 *  3. a plain copy (another filesystem, or links refused).
 * The stage sits beside the target folder (so links and the final rename
 * stay on one filesystem), named `.<id>.reuse-<random>`.
 *
 * A pull of a CID another id is downloading in this process waits for that
 * download (`claimCidDownload`) and then reuses it: N ids cost one download.
 * Across processes the retrieval's work-folder lock does the waiting, and the
 * pull tries reuse again once it holds it.
 */
import { copyFile, link, lstat, mkdir, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { constants as fsConstants } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { CID } from 'multiformats/cid'
import type { CitratePaths } from '../config/paths.ts'
import { AbortedError, ContentCorruptError, TargetExistsError } from '../errors.ts'
import { sameCid } from '../ipld/cid.ts'
import { DAG_INDEX_FILE, readDagIndex } from '../ipld/dag-index.ts'
import { logger } from '../log.ts'
import type { ModelRegistry } from '../registry/registry.ts'
import type { ModelEntry, ModelKind } from '../registry/schema.ts'
import { fsyncDir } from '../util/atomic-write.ts'
import { toStoredPath } from '../registry/home-paths.ts'
import { BOOKKEEPING_DIR, bookkeepingPath, CONFIG_FILE, METADATA_FILE } from '../registry/layout.ts'
import { verifyContent, type VerifyResult } from '../verify/verify.ts'
import { entryDir, guessFormat, guessQuantization } from './model-files.ts'
import { pathExists } from '../util/fs.ts'
import { nameFromContent } from './naming.ts'

const log = logger('pull')

export type CloneMethod = 'reflink' | 'link' | 'copy'

export interface ReuseRequest {
  paths: CitratePaths
  registry: ModelRegistry
  cid: CID
  id: string
  kind: ModelKind
  /** The entry's display name. */
  name: string
  /** A file's name inside the new folder; default `model.<ext>` (models/naming.ts). A folder's files keep theirs. */
  filename?: string
  targetDir: string
  signal: AbortSignal
  /** Called when a copy is found and is being cloned and re-proved. */
  onVerifying?: () => void
}

export interface Reused {
  entry: ModelEntry
  type: 'file' | 'directory'
  /** The id whose bytes were reused. */
  from: string
  /** How the files were cloned (the weakest method any file needed). */
  method: CloneMethod
  /** The content's symlinks that are not written (pointing outside the folder), as the first pull reported them. */
  skippedSymlinks: VerifyResult['skippedSymlinks']
}

/**
 * Clones, re-verifies and commits the content of another verified entry of
 * the same CID (v0 and v1 spellings alike) into `targetDir`; undefined when no
 * entry holds it (or none still proves), so the caller fetches.
 */
export async function reuseLocalCopy (r: ReuseRequest): Promise<Reused | undefined> {
  const candidates = (await r.registry.list()).filter(m => m.id !== r.id && m.verified && sameCid(m.cid, r.cid))
  for (const source of candidates) {
    if (r.signal.aborted) throw new AbortedError('pull')
    const sourceDir = entryDir(r.paths, source)
    const indexFile = bookkeepingPath(sourceDir, DAG_INDEX_FILE)
    if (!await pathExists(source.path) || !await pathExists(indexFile)) continue
    const index = await readDagIndex(indexFile).catch(() => undefined)
    if (index == null || !sameCid(index.root, r.cid)) continue
    r.onVerifying?.()
    const stage = join(dirname(r.targetDir), `.${basename(r.targetDir)}.reuse-${randomBytes(4).toString('hex')}`)
    try {
      const sourceType = (await lstat(source.path)).isDirectory() ? 'directory' : 'file'
      const naming = source.info == null || (r.filename == null && sourceType === 'file') ? await nameFromContent(source.path, sourceType) : undefined
      const info = source.info ?? naming?.info
      // A folder is the new model folder itself (without the source's `.citrate/`); a file goes in it under its name.
      const filename = sourceType === 'directory' ? '' : r.filename ?? naming?.filename ?? r.cid.toString()
      const content = sourceType === 'directory' ? stage : join(stage, filename)
      if (sourceType === 'file') await mkdir(stage, { recursive: true })
      else await mkdir(dirname(stage), { recursive: true })
      const sourceInPlace = resolve(source.path) === resolve(sourceDir)
      const method = await cloneTree(source.path, content, sourceInPlace ? [BOOKKEEPING_DIR] : [])
      // The clone is proved against the CID before it is committed: a rotted source stops here.
      const proof = await verifyContent(r.id, content, index, { signal: r.signal })
      const type = sourceType
      const entry: ModelEntry = {
        id: r.id,
        name: r.name,
        cid: r.cid.toString(),
        size_bytes: proof.bytes,
        quantization: info?.quantization ?? guessQuantization(filename !== '' ? filename : r.filename ?? ''),
        downloaded_at: new Date().toISOString(),
        path: sourceType === 'directory' ? r.targetDir : join(r.targetDir, filename),
        source: 'local',
        source_url: null,
        verified: true,
        kind: r.kind,
        ...(info != null ? { info } : {})
      }
      const bk = join(stage, BOOKKEEPING_DIR)
      await mkdir(bk)
      await copyFile(indexFile, join(bk, DAG_INDEX_FILE))
      const stored = toStoredPath(r.paths.home, entry.path)
      await writeFile(join(bk, METADATA_FILE), JSON.stringify({ ...entry, path: stored, type, files: proof.files, reused_from: source.id }, null, 2) + '\n')
      await writeFile(join(bk, CONFIG_FILE), JSON.stringify({ model_path: stored, kind: r.kind, format: info?.format ?? guessFormat(filename) }, null, 2) + '\n')
      await fsyncDir(bk)
      await fsyncDir(stage)
      await mkdir(dirname(r.targetDir), { recursive: true })
      if (await pathExists(r.targetDir)) throw new TargetExistsError(r.targetDir)
      await rename(stage, r.targetDir)
      await fsyncDir(dirname(r.targetDir))
      await r.registry.upsert(entry)
      log('%s: reused the verified bytes of %s (%s) for %s', r.cid, source.id, method, r.id)
      return { entry, type, from: source.id, method, skippedSymlinks: proof.skippedSymlinks }
    } catch (err) {
      await rm(stage, { recursive: true, force: true }).catch(() => {})
      if (r.signal.aborted || err instanceof AbortedError) throw new AbortedError('pull')
      if (err instanceof TargetExistsError) throw err
      if (err instanceof ContentCorruptError) {
        log('%s: the copy under %s no longer proves (%s); marked unverified, fetching instead', r.cid, source.id, err.message)
        await r.registry.update(source.id, { verified: false }).catch(() => {})
      } else {
        log('%s: could not reuse %s: %s', r.cid, source.id, (err as Error).message)
      }
    }
  }
  return undefined
}

/** Recreates `src` (a file, symlink or folder tree, less `skip` at its top) at `dst`, each file cloned the cheapest way the filesystem allows. */
async function cloneTree (src: string, dst: string, skip: readonly string[] = []): Promise<CloneMethod> {
  const st = await lstat(src)
  if (st.isSymbolicLink()) {
    await symlink(await readlink(src), dst)
    return 'reflink'
  }
  if (!st.isDirectory()) return await cloneFile(src, dst)
  await mkdir(dst)
  let weakest: CloneMethod = 'reflink'
  for (const name of await readdir(src)) {
    if (skip.includes(name)) continue
    const m = await cloneTree(join(src, name), join(dst, name))
    if (RANK[m] > RANK[weakest]) weakest = m
  }
  return weakest
}

const RANK: Record<CloneMethod, number> = { reflink: 0, link: 1, copy: 2 }

async function cloneFile (src: string, dst: string): Promise<CloneMethod> {
  try {
    await copyFile(src, dst, fsConstants.COPYFILE_EXCL | fsConstants.COPYFILE_FICLONE_FORCE)
    return 'reflink'
  } catch { /* no copy-on-write here */ }
  try {
    await link(src, dst)
    return 'link'
  } catch { /* another filesystem, or links refused */ }
  await copyFile(src, dst, fsConstants.COPYFILE_EXCL)
  return 'copy'
}


/** Downloads of a CID in this process, by home and CID (any spelling): a second id waits for the first. */
const downloading = new Map<string, Promise<void>>()

/**
 * Waits (abortably) while another pull in this process downloads `cid` into
 * the same home, then claims it; the returned function releases the claim
 * (call it when the pull ends, however it ends). After a wait the caller
 * tries reuseLocalCopy: the first download is now a verified entry.
 */
export async function claimCidDownload (home: string, cid: CID, signal: AbortSignal): Promise<() => void> {
  const key = `${home}\0${cid.toV1().toString()}`
  while (true) {
    const other = downloading.get(key)
    if (other == null) break
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => { reject(new AbortedError('pull')) }
      if (signal.aborted) { onAbort(); return }
      signal.addEventListener('abort', onAbort, { once: true })
      void other.then(() => { signal.removeEventListener('abort', onAbort); resolve() })
    })
  }
  let release: () => void = () => {}
  downloading.set(key, new Promise<void>(resolve => { release = resolve }))
  const mine = downloading.get(key)
  return () => {
    if (downloading.get(key) === mine) downloading.delete(key)
    release()
  }
}
