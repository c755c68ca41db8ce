/**
 * The model registry: `models/registry.json`, shared by every citrate-ipfs
 * process (CLI, service, the desktop app).
 *
 * Writers take a cross-process lock (proper-lockfile: an mkdir'd lock folder
 * whose mtime is refreshed while held, taken over when stale, so a SIGKILLed
 * holder blocks others for at most `stale` ms), re-read the file under the lock,
 * and replace it atomically (write aside, fsync, rename, fsync dir). Readers
 * need no lock: they always see a whole old or whole new file.
 *
 * A file that does not parse or breaks the schema is never overwritten: it is
 * copied aside and reported with the field at fault.
 */
import { copyFile, mkdir, readFile, readdir, rm } from 'node:fs/promises'
import { constants as fsConstants } from 'node:fs'
import { createHash } from 'node:crypto'
import { basename, dirname, join } from 'node:path'
import { lockSafely } from '../util/lock.ts'
import { ModelNotFoundError, RegistryCorruptError, RegistryLockError, RegistryVersionError, InvalidArgumentError } from '../errors.ts'
import type { LoadedConfig } from '../config/load.ts'
import { writeFileAtomic } from '../util/atomic-write.ts'
import { sanitizeModelId } from './model-id.ts'
import { fromStoredPath, toStoredPath } from './home-paths.ts'
import { migrateEntryLayout, type KindRoots } from './layout.ts'
import {
  needsLayoutMigration, parseRegistryDocument, validateEntry, SchemaViolation, REGISTRY_VERSION, SUPPORTED_REGISTRY_VERSIONS,
  type ModelEntry, type RegistryDocument
} from './schema.ts'

/** The registry of a loaded configuration (`<models_path>/registry.json`). */
export function registryOf (config: LoadedConfig): ModelRegistry {
  return new ModelRegistry({ modelsDir: config.paths.models, home: config.paths.home, roots: { model: config.paths.models, dataset: config.paths.datasets, checkpoint: config.paths.checkpoints, asset: config.paths.assets } })
}

export interface ModelRegistryOptions {
  /** The models folder (config `models_path`); the registry is `registry.json` inside it. */
  modelsDir: string
  /** CITRATE_HOME: stored paths are relative to it (registry/home-paths.ts). Default: the models folder's parent (the default layout). */
  home?: string
  /** Each kind's folder, for the layout migration (default: the models folder, and training/datasets and training/checkpoints in the home). */
  roots?: Partial<KindRoots>
  /** A lock older than this is taken over (its holder died). Default 5000 ms, minimum 2000. */
  staleLockMs?: number
  /** How long to wait for the lock before failing with RegistryLockError. Default 30 s. */
  lockWaitMs?: number
}

export type ModelEntryPatch = Partial<Omit<ModelEntry, 'id'>>

export class ModelRegistry {
  readonly modelsDir: string
  readonly file: string
  readonly home: string
  readonly roots: KindRoots
  private readonly staleLockMs: number
  private readonly lockWaitMs: number

  constructor (opts: ModelRegistryOptions) {
    this.modelsDir = opts.modelsDir
    this.file = join(opts.modelsDir, 'registry.json')
    this.home = opts.home ?? dirname(opts.modelsDir)
    this.roots = {
      model: opts.roots?.model ?? opts.modelsDir,
      dataset: opts.roots?.dataset ?? join(this.home, 'training', 'datasets'),
      checkpoint: opts.roots?.checkpoint ?? join(this.home, 'training', 'checkpoints'),
      asset: opts.roots?.asset ?? join(this.home, 'assets')
    }
    this.staleLockMs = Math.max(2000, opts.staleLockMs ?? 5000)
    this.lockWaitMs = opts.lockWaitMs ?? 30_000
  }

  /** Every entry, in insertion order. A missing registry is an empty one. */
  async list (): Promise<ModelEntry[]> {
    return (await this.read()).models
  }

  async get (id: string): Promise<ModelEntry | undefined> {
    return (await this.list()).find(m => m.id === id)
  }

  /** Entries whose content is `cid` (several ids may share one CID). */
  async byCid (cid: string): Promise<ModelEntry[]> {
    return (await this.list()).filter(m => m.cid === cid)
  }

  /** Adds the entry, or replaces the one with the same id. */
  async upsert (entry: ModelEntry): Promise<void> {
    const id = sanitizeModelId(entry.id)
    const checked = validateEntry({ ...entry, id })
    if (checked instanceof SchemaViolation) throw new InvalidArgumentError(`model entry field ${checked.field}: ${checked.problem}`)
    await this.mutate(models => {
      const i = models.findIndex(m => m.id === id)
      if (i >= 0) models[i] = checked
      else models.push(checked)
    })
  }

  /** Changes some fields of an entry; throws ModelNotFoundError when there is none. */
  async update (id: string, patch: ModelEntryPatch): Promise<ModelEntry> {
    return await this.mutate(models => {
      const i = models.findIndex(m => m.id === id)
      const current = models[i]
      if (current == null) throw new ModelNotFoundError(id)
      const next = validateEntry({ ...current, ...patch, id })
      if (next instanceof SchemaViolation) throw new InvalidArgumentError(`model entry field ${next.field}: ${next.problem}`)
      models[i] = next
      return next
    })
  }

  /** Removes the entry (not its files); returns it, or undefined when there was none. */
  async remove (id: string): Promise<ModelEntry | undefined> {
    return await this.mutate(models => {
      const i = models.findIndex(m => m.id === id)
      if (i < 0) return undefined
      return models.splice(i, 1)[0]
    })
  }

  /**
   * Reads and validates the registry, migrating older versions in memory;
   * paths come back absolute. A file that needed migrating (an older
   * version, or absolute paths inside the home) is rewritten once in the
   * current form, so a home moved afterwards keeps working. A registry
   * from before 1.3 has its models' files moved to the current layout
   * (registry/layout.ts) first, under the lock; until that succeeds (another
   * writer holds the lock, a read-only disk) entries keep their old paths,
   * which still name the content.
   */
  async read (): Promise<RegistryDocument> {
    const { doc, stale } = await this.readStored()
    if (stale && !this.mutating && !this.migrationTried) {
      this.migrationTried = true
      // The migration may move files (a pre-1.3 layout): the entries are read again at their new paths.
      const migrated = await this.mutate(() => {}).then(async () => (await this.readStored()).doc, () => undefined /* read-only, or locked: migrated at the next write */)
      if (migrated != null) return migrated
    }
    return doc
  }

  private mutating = false
  private migrationTried = false

  private async readStored (): Promise<{ doc: RegistryDocument, stale: boolean, legacyLayout: boolean }> {
    let text: string
    try {
      text = await readFile(this.file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { doc: { version: REGISTRY_VERSION, models: [] }, stale: false, legacyLayout: false }
      throw err
    }
    let raw: unknown
    try {
      raw = JSON.parse(text)
    } catch (err) {
      throw new RegistryCorruptError(this.file, '(file)', `not valid JSON (${(err as Error).message})`, await this.keepAside(text), { cause: err })
    }
    const parsed = parseRegistryDocument(raw)
    if (parsed instanceof SchemaViolation) throw new RegistryCorruptError(this.file, parsed.field, parsed.problem, await this.keepAside(text))
    if ('newer' in parsed) throw new RegistryVersionError(this.file, parsed.newer, SUPPORTED_REGISTRY_VERSIONS.join(', '))
    const storedVersion = (raw as { version: string }).version
    let stale = storedVersion !== REGISTRY_VERSION
    const models = parsed.models.map(m => {
      if (toStoredPath(this.home, m.path) !== m.path) stale = true
      return { ...m, path: fromStoredPath(this.home, m.path) }
    })
    return { doc: { version: parsed.version, models }, stale, legacyLayout: needsLayoutMigration(storedVersion) }
  }

  /**
   * Runs `fn` on the current entries under the cross-process lock and writes
   * the result atomically. `fn` may throw to abort without writing.
   */
  async mutate<T> (fn: (models: ModelEntry[]) => T): Promise<T> {
    await mkdir(this.modelsDir, { recursive: true })
    let compromised: Error | undefined
    let release: () => Promise<void>
    try {
      release = await lockSafely(this.file, {
        lockPath: `${this.file}.lock`,
        staleMs: this.staleLockMs,
        waitMs: this.lockWaitMs,
        onCompromised: (err) => { compromised = err }
      })
    } catch (err) {
      throw new RegistryLockError(this.file, { cause: err })
    }
    this.mutating = true
    try {
      const { doc, legacyLayout } = await this.readStored()
      // Files first, entries last: a crash between leaves the old version, and the next open repeats the (idempotent) moves.
      if (legacyLayout) {
        for (let i = 0; i < doc.models.length; i++) doc.models[i] = await migrateEntryLayout(doc.models[i] as ModelEntry, this.roots, this.home)
      }
      const result = fn(doc.models)
      await this.removeOrphanTempFiles()
      if (compromised != null) throw new RegistryLockError(this.file, { cause: compromised })
      const stored = doc.models.map(m => ({ ...m, path: toStoredPath(this.home, m.path) }))
      await writeFileAtomic(this.file, JSON.stringify({ version: REGISTRY_VERSION, models: stored }, null, 2) + '\n')
      return result
    } finally {
      this.mutating = false
      await release().catch(() => { /* lock already gone (compromised): nothing to release */ })
    }
  }

  /** Copies a bad registry aside, once per distinct content; returns the copy's path. */
  private async keepAside (text: string): Promise<string | undefined> {
    const digest = createHash('sha256').update(text).digest('hex').slice(0, 12)
    const backup = `${this.file}.corrupt-${digest}.bak`
    try {
      await copyFile(this.file, backup, fsConstants.COPYFILE_EXCL)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return undefined
    }
    return backup
  }

  /** Temp files of writers killed mid-write (`.registry.json.<pid>.<rand>.tmp`) whose process is gone. */
  private async removeOrphanTempFiles (): Promise<void> {
    const prefix = `.${basename(this.file)}.`
    for (const name of await readdir(dirname(this.file)).catch(() => [] as string[])) {
      if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue
      const pid = Number.parseInt(name.slice(prefix.length).split('.')[0] ?? '', 10)
      if (Number.isInteger(pid) && pid !== process.pid && !processAlive(pid)) {
        await rm(join(dirname(this.file), name), { force: true })
      }
    }
  }
}

function processAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
