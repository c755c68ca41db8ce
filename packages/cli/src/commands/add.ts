/** `add`: publish a file or folder, with the CID kubo would compute for the same options. */
import { resolve } from 'node:path'
import {
  addToKubo, bookkeepingPath, DAG_INDEX_FILE, MODEL_KINDS, DaemonManager, DaemonNotRunningError, DagIndexBuilder, hashPath, InvalidArgumentError, modelDir,
  modelIdFromName, sanitizeModelId, writeCar, writeModelFiles, scanSource,
  type ModelEntry, type ModelKind, type PublishOptions, type PublishProgressEvent, type PublishResult, type UnixfsProfile
} from '@citrate-ipfs/core'
import { formatBytes } from '@citrate-ipfs/contract/plain'
import type { Context } from '../context.ts'
import { ProgressBar } from '../output.ts'
import { registryFor } from './models.ts'
import { UsageError } from '../errors.ts'
import { clusterConfigOf, clusterPinAndRecord } from './cluster.ts'

export interface AddCommandOptions {
  name?: string
  kind?: string
  cidVersion?: string
  profile?: string
  chunker?: string
  rawLeaves?: boolean
  onlyHash?: boolean
  car?: string
  cluster?: boolean
  replicationMin?: string
  replicationMax?: string
}

const KINDS: readonly ModelKind[] = MODEL_KINDS

export async function addCommand (ctx: Context, opts: AddCommandOptions, path: string): Promise<void> {
  if (opts.cluster === true && (opts.car != null || opts.onlyHash === true)) throw new UsageError('--cluster pins what was added to kubo: it does not go with --car or --only-hash')
  if (opts.cluster !== true && (opts.replicationMin != null || opts.replicationMax != null)) throw new UsageError('--replication-min/--replication-max go with --cluster')
  // Before any work: a missing [ipfs.cluster] is said up front, not after a 20 GB add.
  if (opts.cluster === true) clusterConfigOf(ctx)
  const kind = (opts.kind ?? 'model') as ModelKind
  if (!KINDS.includes(kind)) throw new InvalidArgumentError(`--kind must be one of ${KINDS.join(', ')} (got "${opts.kind ?? ''}")`)
  let cidVersion: 0 | 1 | undefined
  if (opts.cidVersion != null) {
    if (opts.cidVersion !== '0' && opts.cidVersion !== '1') throw new InvalidArgumentError(`--cid-version must be 0 or 1 (got "${opts.cidVersion}")`)
    cidVersion = opts.cidVersion === '1' ? 1 : 0
  }
  const bar = ctx.out.interactive ? new ProgressBar(ctx.out.stderr, opts.onlyHash === true ? 'hashing' : 'adding') : undefined
  const index = new DagIndexBuilder()
  const shared: PublishOptions = {
    cidVersion,
    profile: opts.profile as UnixfsProfile | undefined,
    chunker: opts.chunker,
    rawLeaves: opts.rawLeaves,
    index,
    onProgress: (e: PublishProgressEvent) => {
      ctx.out.event(e)
      if (e.type === 'citrate:publish:bytes') bar?.update(e.bytes, e.totalBytes)
    }
  }
  const id = opts.name != null ? sanitizeModelId(opts.name) : modelIdFromName((await scanSource(path)).rootName)

  let result: PublishResult
  let stored: 'none' | 'car' | 'kubo'
  let localGateway: string | undefined
  if (opts.onlyHash === true) {
    result = await hashPath(path, shared)
    stored = 'none'
  } else if (opts.car != null) {
    result = await writeCar(path, opts.car, shared)
    stored = 'car'
  } else {
    const running = await new DaemonManager({ config: ctx.config }).runningDaemon()
    if (running == null) {
      throw new DaemonNotRunningError('the kubo daemon is not running: start it (`citrate-ipfs daemon start`), or pass --car FILE to write a CAR, or --only-hash')
    }
    localGateway = running.status.gatewayUrl
    result = await addToKubo(running.rpc, path, { ...shared, pin: true, pinName: id })
    stored = 'kubo'
  }
  bar?.done()

  let entry: ModelEntry | undefined
  if (stored !== 'none') {
    entry = {
      id,
      name: opts.name ?? result.rootName,
      cid: result.cid,
      size_bytes: result.size,
      quantization: null,
      downloaded_at: new Date().toISOString(),
      path: resolve(path),
      source: 'local',
      source_url: null,
      verified: true,
      kind
    }
    // The index first, the registry entry last: an entry always has its index.
    await index.write(bookkeepingPath(modelDir(ctx.config.paths.models, id), DAG_INDEX_FILE), result.cid)
    await writeModelFiles(ctx.config.paths.models, entry, { home: ctx.config.paths.home, metadata: { import_shape: result.shape, car: opts.car != null ? resolve(opts.car) : undefined } })
    await registryFor(ctx).upsert(entry)
  }
  const where = stored === 'kubo' ? 'added to kubo and pinned' : stored === 'car' ? `written to ${opts.car ?? ''}` : 'hashed only (nothing stored)'
  // The cluster's kubos fetch the blocks from ours (the IPFS network); the replicas are recorded on the entry.
  const replicated = opts.cluster === true ? await clusterPinAndRecord(ctx, result.cid, { name: id, replicationMin: opts.replicationMin, replicationMax: opts.replicationMax }) : undefined
  const link = `ipfs://${result.cid}`
  const gatewayUrl = gatewayLink(result.cid, localGateway ?? (ctx.config.ipfs.external_gateway !== '' ? ctx.config.ipfs.external_gateway : ctx.config.ipfs.fallback_gateway))
  ctx.out.result({ cid: result.cid, size: result.size, stored, id: entry?.id ?? null, shape: result.shape, car: opts.car ?? null, url: link, gatewayUrl, ...(replicated != null ? { cluster: replicated } : {}) },
    `${result.cid}  ${result.rootName} (${formatBytes(result.size)}) ${where}${entry != null ? `\nregistered as ${entry.id}` : ''}` +
    `\n  ${link}${gatewayUrl != null ? `\n  ${gatewayUrl}${localGateway != null ? '  (this machine\'s gateway)' : ''}` : ''}` +
    (replicated != null ? `\npinned on ${replicated.pinned.length} cluster peer${replicated.pinned.length === 1 ? '' : 's'} (${replicated.required} required)` : ''))
}

/**
 * A path-style gateway link: the local daemon's gateway when the content was
 * added to it, else the configured external or fallback gateway (where it can
 * be fetched once a node provides it); null when none is configured (offline).
 */
function gatewayLink (cid: string, base: string): string | null {
  return base === '' ? null : `${base.replace(/\/+$/, '')}/ipfs/${cid}`
}
