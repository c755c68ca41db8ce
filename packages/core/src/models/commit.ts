/**
 * The commit of a verified pull into its place, written so that a crash at
 * any line is finished by the next pull of the CID without fetching again
 * (it re-proves the bytes from the journal instead).
 *
 * Steps, each durable before the next (`CommitStep` names the points after each):
 *   1. `bookkeeping/` in the work folder gets metadata.json, the DAG index and config.json; fsynced → 'staged'
 *   2. `commit.json` in the work folder records the intent (target, type, file name, entry)       → 'marked'
 *   3. the content becomes `stage/` (a folder: renamed to it; a file: renamed into it as
 *      `stage/<file name>`), and `bookkeeping/` becomes `stage/.citrate/` (renames inside the
 *      work folder), so the folder's own files are exactly the content's                         → 'content-moved'
 *   4. across filesystems only: `stage/` is copied beside the target as `.<id>.incoming-<cid>`   → 'copied'
 *   5. `stage/` (or its copy) is renamed into place; the parent fsynced                          → 'placed'
 *   6. the registry entry is written: the commit point for readers                              → 'registered'
 *   7. the work folder is removed                                                               (the caller: Retrieval.finish)
 *
 * On the next open of the work folder, `recoverCommit` finds where a crash
 * stopped: after step 5 the target holds the complete model (its
 * .citrate/metadata.json says so) and only the registry entry and the clean-up are
 * left; before it, the half-made copy beside the target is removed and the
 * content goes back to where the journal proves it from, so the pull resumes
 * with every byte on disk and commits again. A failed step in this process
 * (ENOSPC while copying) is undone the same way at once.
 */
import { cp, lstat, mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import type { CID } from 'multiformats/cid'
import { DagIndexBuilder, DAG_INDEX_FILE } from '../ipld/dag-index.ts'
import { DiskFullError, TargetExistsError, UnsupportedContentError } from '../errors.ts'
import type { Retrieval } from '../fetch/index.ts'
import type { ModelRegistry } from '../registry/registry.ts'
import type { ModelEntry } from '../registry/schema.ts'
import { toStoredPath } from '../registry/home-paths.ts'
import { BOOKKEEPING_DIR, bookkeepingPath, CONFIG_FILE, METADATA_FILE } from '../registry/layout.ts'
import { fsyncDir, writeFileAtomic } from '../util/atomic-write.ts'
import { freeBytes } from './space.ts'
import { pathExists } from '../util/fs.ts'

/** The points a commit passes (after the step of that name is durable). */
export const COMMIT_STEPS = ['staged', 'marked', 'content-moved', 'copied', 'placed', 'registered'] as const
export type CommitStep = typeof COMMIT_STEPS[number]

/** Called after each step; for fault-injection tests (a throw fails the commit there, as a real error would). */
export type CommitHook = (step: CommitStep) => void | Promise<void>

/** The intent file in the work folder (step 2). */
export const COMMIT_MARKER = 'commit.json'
const STAGE = 'stage'
/** Our files for the model, made before the content moves, then moved in as `.citrate/`. */
const BOOKKEEPING = 'bookkeeping'

interface CommitIntent {
  cid: string
  targetDir: string
  /** A file's name in the target (a folder's files keep theirs). */
  filename: string
  /** Absent in intents written before folders landed intact: those staged a file or folder as `stage/<filename>`. */
  type?: 'file' | 'directory'
  entry: ModelEntry
}

export interface CommitInput {
  retrieval: Retrieval
  root: CID
  entry: ModelEntry
  targetDir: string
  /** A file: the content's folder holds it as `filename`; a folder: becomes the target itself (`filename` unused). */
  type: 'file' | 'directory'
  filename: string
  /** metadata.json's fields beyond the entry (type, file count). */
  metadata: Record<string, unknown>
  /** config.json's content. */
  config: Record<string, unknown>
  registry: ModelRegistry
  /** CITRATE_HOME: metadata.json stores the path relative to it, as the registry does. */
  home: string
  hook?: CommitHook
}

/** Steps 1–6: the verified content of `retrieval` becomes `targetDir` and its registry entry. */
export async function commitPull (c: CommitInput): Promise<void> {
  const hook = c.hook ?? (() => {})
  const workDir = c.retrieval.dir
  const stage = join(workDir, STAGE)
  const bookkeeping = join(workDir, BOOKKEEPING)
  if (c.type === 'directory') await assertNoOwnBookkeeping(c.retrieval.contentPath)
  await rm(stage, { recursive: true, force: true })
  await rm(bookkeeping, { recursive: true, force: true })
  await mkdir(bookkeeping)
  await writeFile(join(bookkeeping, METADATA_FILE), JSON.stringify({ ...c.entry, path: toStoredPath(c.home, c.entry.path), ...c.metadata }, null, 2) + '\n')
  // The interior blocks, kept as the DAG index `models verify` re-proves the bytes with later (no daemon needed).
  const index = new DagIndexBuilder()
  for await (const b of c.retrieval.interiorBlocks()) index.add(b.cid, b.bytes)
  await index.write(join(bookkeeping, DAG_INDEX_FILE), c.root)
  await writeFile(join(bookkeeping, CONFIG_FILE), JSON.stringify(c.config, null, 2) + '\n')
  await fsyncDir(bookkeeping)
  await hook('staged')

  const intent: CommitIntent = { cid: c.root.toString(), targetDir: c.targetDir, filename: c.filename, type: c.type, entry: c.entry }
  await writeFileAtomic(join(workDir, COMMIT_MARKER), JSON.stringify(intent) + '\n')
  await hook('marked')

  try {
    if (c.type === 'directory') {
      await rename(c.retrieval.contentPath, stage)
    } else {
      await mkdir(stage)
      await rename(c.retrieval.contentPath, join(stage, c.filename))
    }
    await rename(bookkeeping, join(stage, BOOKKEEPING_DIR))
    await fsyncDir(stage)
    await fsyncDir(workDir)
    await hook('content-moved')
    await moveIntoPlace(stage, c.targetDir, intent.cid, hook)
    await hook('placed')
  } catch (err) {
    // Not in place: put everything back as it was before step 2, so this pull (or the next) commits again without fetching.
    await undo(workDir, c.retrieval.contentPath, intent).catch(() => {})
    if ((err as NodeJS.ErrnoException).code === 'ENOSPC') {
      const at = dirname(c.targetDir)
      throw new DiskFullError(at, c.entry.size_bytes, freeBytes(at)?.bytes ?? 0, { cause: err })
    }
    throw err
  }
  await c.registry.upsert(c.entry)
  await hook('registered')
}

/** The id an intent file's text names (to tell whose commit a crash interrupted), or undefined. */
export function pendingCommitId (markerText: string): string | undefined {
  try {
    const id = (JSON.parse(markerText) as Partial<CommitIntent>).entry?.id
    return typeof id === 'string' ? id : undefined
  } catch {
    return undefined
  }
}

export type Recovery =
  /** No commit was under way. */
  | { state: 'none' }
  /** A commit had not put the model in place: undone; the content is back where the journal proves it from. */
  | { state: 'undone' }
  /** A commit had put the model in place (registry entry now written): only the work folder is left to remove. */
  | { state: 'placed', entry: ModelEntry }

/** Finds an interrupted commit in `retrieval`'s work folder (which the caller holds locked) and finishes or undoes it. */
export async function recoverCommit (retrieval: Retrieval, registry: ModelRegistry): Promise<Recovery> {
  const workDir = retrieval.dir
  let intent: CommitIntent
  try {
    intent = JSON.parse(await readFile(join(workDir, COMMIT_MARKER), 'utf8')) as CommitIntent
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    // Steps 1 only (or nothing): the content never moved; the bookkeeping is just metadata to make again.
    await rm(join(workDir, STAGE), { recursive: true, force: true })
    await rm(join(workDir, BOOKKEEPING), { recursive: true, force: true })
    return { state: 'none' }
  }
  if (await isPlaced(intent)) {
    if (await registry.get(intent.entry.id) == null) await registry.upsert(intent.entry)
    return { state: 'placed', entry: intent.entry }
  }
  await undo(workDir, retrieval.contentPath, intent)
  return { state: 'undone' }
}

/** The target holds this commit's result: its .citrate/metadata.json names the CID and id, and the content is there. */
async function isPlaced (intent: CommitIntent): Promise<boolean> {
  try {
    // An intent from before `.citrate/` had metadata.json beside the content (the registry migrates that layout when it opens).
    const metaFile = intent.type != null ? bookkeepingPath(intent.targetDir, METADATA_FILE) : join(intent.targetDir, METADATA_FILE)
    const meta = JSON.parse(await readFile(metaFile, 'utf8')) as Partial<ModelEntry>
    if (meta.cid !== intent.cid || meta.id !== intent.entry.id) return false
    await lstat(intent.type === 'directory' ? intent.targetDir : join(intent.targetDir, intent.filename))
    return true
  } catch {
    return false
  }
}

async function undo (workDir: string, contentPath: string, intent: CommitIntent): Promise<void> {
  await rm(incomingPath(intent.targetDir, intent.cid), { recursive: true, force: true })
  const stage = join(workDir, STAGE)
  if (intent.type === 'directory') {
    // The stage is the content folder with our `.citrate/` added: take that out, and the folder is the content again.
    if (await pathExists(stage) && !await pathExists(contentPath)) {
      await rm(join(stage, BOOKKEEPING_DIR), { recursive: true, force: true })
      await rename(stage, contentPath)
      await fsyncDir(workDir)
    }
  } else {
    const staged = join(stage, intent.filename)
    if (await pathExists(staged) && !await pathExists(contentPath)) {
      await rename(staged, contentPath)
      await fsyncDir(workDir)
    }
  }
  await rm(stage, { recursive: true, force: true })
  await rm(join(workDir, BOOKKEEPING), { recursive: true, force: true })
  await rm(join(workDir, COMMIT_MARKER), { force: true })
}

/** A folder whose own top level has `.citrate` cannot land intact beside our bookkeeping: refused, never merged. */
async function assertNoOwnBookkeeping (folder: string): Promise<void> {
  if (await pathExists(join(folder, BOOKKEEPING_DIR))) {
    throw new UnsupportedContentError(`the folder has its own top-level "${BOOKKEEPING_DIR}" entry, the name citrate-ipfs keeps its bookkeeping under in every model folder`)
  }
}

/** Where a copy across filesystems is assembled: beside the target, so the last step is a rename; named by CID so a restart finds it. */
function incomingPath (targetDir: string, cid: string): string {
  return join(dirname(targetDir), `.${basename(targetDir)}.incoming-${cid}`)
}

/** Renames the staged folder into place; across filesystems, copies beside the target first so the last step is still a rename. */
async function moveIntoPlace (stage: string, targetDir: string, cid: string, hook: CommitHook): Promise<void> {
  await mkdir(dirname(targetDir), { recursive: true })
  if (await pathExists(targetDir)) throw new TargetExistsError(targetDir)
  try {
    await rename(stage, targetDir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err
    const beside = incomingPath(targetDir, cid)
    await rm(beside, { recursive: true, force: true })
    // verbatimSymlinks: a folder's relative links stay relative (by default cp rewrites them to absolute paths into stage/).
    await cp(stage, beside, { recursive: true, verbatimSymlinks: true })
    await fsyncTree(beside)
    await hook('copied')
    await rename(beside, targetDir)
    // The copy is in place: the staged original is only clean-up now (the work folder goes with the commit).
  }
  await fsyncDir(dirname(targetDir))
}

/** fsyncs a copied folder's files and folders (cp does not), so the rename after it publishes durable bytes. */
async function fsyncTree (dir: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(e.parentPath, e.name)
    if (e.isDirectory()) await fsyncDir(path)
    else if (e.isFile()) {
      // r+: Windows flushes only a handle opened for writing.
      const fh = await open(path, 'r+')
      try { await fh.datasync() } finally { await fh.close() }
    }
  }
  await fsyncDir(dir)
}

