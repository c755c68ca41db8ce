/**
 * How a model folder is laid out on disk, and the migration from the layout
 * before registry schema 1.3.
 *
 *   models/<id>/model.gguf                 a single-file model, or
 *   models/<id>/config.json, tokenizer.json, …   a folder model's own files, exactly as published
 *   models/<id>/.citrate/metadata.json     our bookkeeping: the entry and what the bytes say,
 *   models/<id>/.citrate/config.json       runtime settings,
 *   models/<id>/.citrate/dag-index.car     the DAG's interior blocks (verify at rest)
 *
 * Our files live in `.citrate/` so they can never collide with (or
 * overwrite) a file of the model: a folder model's own config.json is the
 * runtime's, not ours. A folder whose top level has its own `.citrate` entry
 * is refused by pull for the same reason.
 *
 * Before 1.3 our files sat beside the content (`models/<id>/metadata.json`)
 * and a folder CID landed one level deeper (`models/<id>/<CID>/…`), its own
 * config.json one folder away from ours. `migrateEntryLayout` brings such an
 * entry to the current layout with renames only, each step safe to repeat, so
 * a crash in the middle is finished by the next open of the registry (which
 * holds the registry lock while it runs and writes the entries' new paths last).
 */
import { lstat, mkdir, readFile, readdir, rename, rmdir } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { DAG_INDEX_FILE } from '../ipld/dag-index.ts'
import { fsyncDir, writeFileAtomic } from '../util/atomic-write.ts'
import { sanitizeModelId } from './model-id.ts'
import { toStoredPath } from './home-paths.ts'
import type { ModelEntry, ModelKind } from './schema.ts'

/** The subfolder of a model folder that holds our bookkeeping. */
export const BOOKKEEPING_DIR = '.citrate'
export const METADATA_FILE = 'metadata.json'
export const CONFIG_FILE = 'config.json'
/** Every file we keep for a model, all inside BOOKKEEPING_DIR. */
export const BOOKKEEPING_FILES = [METADATA_FILE, CONFIG_FILE, DAG_INDEX_FILE] as const

/** `<modelDir>/.citrate/<name>`: where one of our files of the model in `modelDir` lives. */
export function bookkeepingPath (modelDir: string, name: string): string {
  return join(modelDir, BOOKKEEPING_DIR, name)
}

/**
 * Where a half-flattened legacy folder waits during the migration: inside the
 * model folder, so one rename moves it and a restart finds it. A content
 * folder with this name at its top level is not flattened.
 */
const FLATTENING = '.citrate-flatten'

/** The folder of each kind's entries (models_path, training/datasets, training/checkpoints). */
export type KindRoots = Record<ModelKind, string>

async function kindOf (path: string): Promise<'file' | 'directory' | 'other' | undefined> {
  try {
    const st = await lstat(path)
    return st.isDirectory() ? 'directory' : st.isFile() ? 'file' : 'other'
  } catch {
    return undefined
  }
}

/** Renames `from` to `to` unless that already happened (a repeated step after a crash). */
async function moveOnce (from: string, to: string): Promise<void> {
  if (await kindOf(from) === undefined) return
  if (await kindOf(to) !== undefined) return
  await rename(from, to)
}

/**
 * Brings one entry of a pre-1.3 registry (absolute in-memory paths) to the
 * current layout on disk and returns it with its new path. Safe to run again
 * on an entry it already migrated, or after a crash in the middle.
 */
export async function migrateEntryLayout (entry: ModelEntry, roots: KindRoots, home: string): Promise<ModelEntry> {
  let dir: string
  try {
    dir = join(roots[entry.kind], sanitizeModelId(entry.id))
  } catch {
    return entry
  }
  if (await kindOf(dir) !== 'directory') return entry
  const bk = join(dir, BOOKKEEPING_DIR)
  const content = resolve(entry.path)
  const contentIsChild = resolve(dirname(content)) === resolve(dir)
  const flattening = join(dir, FLATTENING)
  const contentKind = await kindOf(content)

  // A folder CID one level deeper (models/<id>/<CID>/…), or one whose flattening a crash interrupted.
  const resuming = await kindOf(flattening) === 'directory'
  const legacyFolder = contentIsChild && contentKind === 'directory'
  let flatten = resuming
  if (legacyFolder && !resuming) {
    const names = await readdir(content)
    flatten = !names.includes(BOOKKEEPING_DIR) && !names.includes(FLATTENING)
  }

  await mkdir(bk, { recursive: true })
  // Our files first, out of the way of the folder's own config.json. A file model named like one of ours stays the content.
  for (const name of BOOKKEEPING_FILES) {
    const at = join(dir, name)
    if (contentIsChild && resolve(at) === content) continue
    if (resuming) continue // already moved before the flattening began
    await moveOnce(at, join(bk, name))
  }
  let path = entry.path
  if (flatten) {
    if (!resuming) await rename(content, flattening)
    for (const name of await readdir(flattening)) await moveOnce(join(flattening, name), join(dir, name))
    await rmdir(flattening)
    path = dir
  } else if (contentIsChild && contentKind === undefined && await recordedType(bk) === 'directory') {
    // A crash after the flattening, before the registry was rewritten: the folder is already up in models/<id>/.
    path = dir
  }
  await fsyncDir(bk).catch(() => {})
  await fsyncDir(dir).catch(() => {})
  const migrated = { ...entry, path }
  if (path !== entry.path) await rewriteStoredPaths(bk, home, migrated)
  return migrated
}

/** The content type the (old) metadata.json recorded: 'file' or 'directory', or undefined. */
async function recordedType (bk: string): Promise<unknown> {
  try {
    return (JSON.parse(await readFile(join(bk, METADATA_FILE), 'utf8')) as { type?: unknown }).type
  } catch {
    return undefined
  }
}

/** metadata.json's `path` and config.json's `model_path` follow the entry's new path. */
async function rewriteStoredPaths (bk: string, home: string, entry: ModelEntry): Promise<void> {
  const stored = toStoredPath(home, entry.path)
  for (const [name, field] of [[METADATA_FILE, 'path'], [CONFIG_FILE, 'model_path']] as const) {
    const file = join(bk, name)
    let doc: unknown
    try {
      doc = JSON.parse(await readFile(file, 'utf8'))
    } catch {
      continue
    }
    if (doc == null || typeof doc !== 'object' || Array.isArray(doc)) continue
    await writeFileAtomic(file, JSON.stringify({ ...doc, [field]: stored }, null, 2) + '\n')
  }
}
