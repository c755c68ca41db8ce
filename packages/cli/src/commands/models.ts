/** `models`, `models show`, `models rm`, `models verify`: the local model registry. */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  bookkeepingPath, CitrateError, DaemonManager, diskUsage, pinList, sameCid, CONFIG_FILE, ContentCorruptError, entryDir, InvalidArgumentError, METADATA_FILE, ModelNotFoundError, ModelRegistry,
  removeModel, toCitrateError, verifyRegisteredModel, type ErrorCode, type ModelEntry
} from '@citrate-ipfs/core'
import { formatBytes } from '@citrate-ipfs/contract/plain'
import type { Context } from '../context.ts'
import { ProgressBar } from '../output.ts'
import { modelTable } from './models-table.ts'

export function registryFor (ctx: Context): ModelRegistry {
  const p = ctx.config.paths
  return new ModelRegistry({ modelsDir: p.models, home: p.home, roots: { model: p.models, dataset: p.datasets, checkpoint: p.checkpoints, asset: p.assets } })
}

/**
 * `models`: a table (models-table.ts) and the total disk use; `--json` gives
 * the entries (each with `pinned`: true, false, or null when the daemon is not
 * running, and `disk_bytes`) and `total_disk_bytes`.
 */
export async function modelsList (ctx: Context): Promise<void> {
  const models = await registryFor(ctx).list()
  const pins = await pinnedCids(ctx)
  const pinned = (m: ModelEntry): boolean | undefined => pins == null ? undefined : pins.some(c => sameCid(c, m.cid))
  const usage = await diskUsage(ctx.config.paths, models)
  if (ctx.out.json) {
    ctx.out.result({ models: models.map(m => ({ ...m, pinned: pinned(m) ?? null, disk_bytes: usage.byId[m.id] ?? 0 })), total_disk_bytes: usage.totalBytes }, '')
    return
  }
  if (models.length === 0) {
    ctx.out.result({}, `no models registered (${join(ctx.config.paths.models, 'registry.json')})`)
    return
  }
  const width = ctx.out.stdout.isTTY === true ? ctx.out.stdout.columns : undefined
  const lines = modelTable(models.map(m => ({ entry: m, pinned: pinned(m) })), width)
  const count = `${models.length} ${models.length === 1 ? 'entry' : 'entries'}`
  ctx.out.result({}, [...lines, '', `${count}, ${formatBytes(usage.totalBytes)} on disk${pins == null ? ' (pins unknown: the daemon is not running)' : ''}`].join('\n'))
}

/** The recursive pins' CIDs, or undefined when the daemon is not running (or does not answer). */
async function pinnedCids (ctx: Context): Promise<string[] | undefined> {
  try {
    const rpc = await new DaemonManager({ config: ctx.config }).rpc()
    const out: string[] = []
    for await (const p of pinList(rpc, { models: [] })) out.push(p.cid)
    return out
  } catch {
    return undefined
  }
}

export async function modelsShow (ctx: Context, id: string): Promise<void> {
  const entry = await registryFor(ctx).get(id)
  if (entry == null) throw new ModelNotFoundError(id)
  const dir = entryDir(ctx.config.paths, entry)
  const metadata = await readJson(bookkeepingPath(dir, METADATA_FILE))
  const config = await readJson(bookkeepingPath(dir, CONFIG_FILE))
  const { info, ...fields } = entry
  const human = Object.entries(fields).map(([k, v]) => `${k}: ${v === null ? '-' : String(v)}`).join('\n') +
    (info != null ? '\n' + Object.entries(info).map(([k, v]) => `info.${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`).join('\n') : '') +
    (config != null ? `\nconfig.json: ${JSON.stringify(config)}` : '')
  ctx.out.result({ model: entry, metadata: metadata ?? null, config: config ?? null }, human)
}

export async function modelsRm (ctx: Context, opts: { keepPin?: boolean }, id: string): Promise<void> {
  const r = await removeModel(ctx.config, id, { keepPin: opts.keepPin })
  if (r.pinNote != null) ctx.out.warn(r.pinNote)
  ctx.out.result({ removed: r.removed, unpinned: r.unpinned }, `removed ${r.removed.id}${r.unpinned ? ` and unpinned ${r.removed.cid}` : ''}`)
}

export async function modelsVerify (ctx: Context, opts: { all?: boolean }, id: string | undefined): Promise<void> {
  const registry = registryFor(ctx)
  let targets: ModelEntry[]
  if (opts.all === true) targets = await registry.list()
  else {
    if (id == null) throw new InvalidArgumentError('name a model id, or pass --all')
    const entry = await registry.get(id)
    if (entry == null) throw new ModelNotFoundError(id)
    targets = [entry]
  }
  const results: Array<{ id: string, ok: boolean, bytes?: number, method?: string, error?: { code: ErrorCode, message: string, offset?: number, path?: string } }> = []
  for (const m of targets) {
    const bar = ctx.out.interactive ? new ProgressBar(ctx.out.stderr, `verifying ${m.id}`) : undefined
    try {
      const r = await verifyRegisteredModel(ctx.config, m, { onProgress: e => bar?.update(e.bytes, m.size_bytes) })
      bar?.done()
      results.push({ id: m.id, ok: true, bytes: r.bytes, method: r.method })
      if (!ctx.out.json) ctx.out.stdout.write(`${m.id}: ok (${formatBytes(r.bytes)} ${r.method === 'dag-index' ? `checked block by block against its DAG index, ${r.blocks} blocks` : 're-hashed with kubo\'s standard shape'}, ${m.cid})\n`)
    } catch (err) {
      bar?.done()
      const e = toCitrateError(err)
      results.push({ id: m.id, ok: false, error: { code: e.code, message: e.message, ...(err instanceof ContentCorruptError ? { offset: err.offset, path: err.path } : {}) } })
      if (!ctx.out.json) ctx.out.stderr.write(`${m.id}: FAILED: ${e.message}\n`)
    }
  }
  const failed = results.filter(r => !r.ok)
  if (ctx.out.json) ctx.out.result({ results }, '')
  else if (targets.length === 0) ctx.out.result({}, 'no models registered')
  if (failed.length > 0) throw new CitrateError(failed.length === 1 ? (failed[0]?.error?.code ?? 'CONTENT_CORRUPT') : 'CONTENT_CORRUPT', `${failed.length} of ${results.length} model(s) failed verification`)
}

async function readJson (path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'))
  } catch {
    return undefined
  }
}
