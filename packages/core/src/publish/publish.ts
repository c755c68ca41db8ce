/**
 * `add`: compute a file's or folder's CID locally exactly as kubo would, and
 * either only hash it, write it as a CAR file, or add it to a running kubo
 * (checking kubo's CID against ours, then pinning).
 */
import { randomBytes } from 'node:crypto'
import type { CID } from 'multiformats/cid'
import { AbortedError, CidMismatchError, InvalidArgumentError, TimeoutError } from '../errors.ts'
import type { KuboRpc } from '../daemon/rpc.ts'
import { CarFileBlockstore, HashOnlyBlockstore, type BlockSink } from './blockstores.ts'
import type { DagIndexBuilder } from '../ipld/dag-index.ts'
import { importSource } from './import.ts'
import { kuboAddParams, resolveImportShape, type ImportShapeOptions, type ResolvedImportShape } from './options.ts'
import { readFileChunks, scanSource, type ScannedSource } from './source.ts'

/** Progress of an add. `start` and `done` are guaranteed; `bytes` is sampled (best effort). */
export type PublishProgressEvent =
  | { type: 'citrate:publish:start', totalBytes: number, files: number, target: 'hash' | 'car' | 'kubo' }
  | { type: 'citrate:publish:bytes', bytes: number, totalBytes: number }
  | { type: 'citrate:publish:done', cid: string }

export interface PublishOptions extends ImportShapeOptions {
  signal?: AbortSignal
  onProgress?: (event: PublishProgressEvent) => void
  /** Minimum time between `bytes` events; default 200 ms. */
  progressIntervalMs?: number
  /** Receives every block made, to record the DAG index `models verify` uses. */
  index?: DagIndexBuilder
}

export interface PublishResult {
  cid: string
  /** Content bytes (sum of file sizes). */
  size: number
  /** Blocks made (after deduplication for CAR). */
  blocks: number
  isDirectory: boolean
  rootName: string
  shape: ResolvedImportShape
}

/** `add --only-hash`: the CID kubo would give, nothing stored. */
export async function hashPath (path: string, opts: PublishOptions = {}): Promise<PublishResult> {
  const shape = resolveImportShape(opts)
  const source = await scanSource(path)
  const sink = new HashOnlyBlockstore()
  const cid = await runImport(source, sink, shape, 'hash', opts)
  return result(source, shape, cid, sink.blocks)
}

/** `add --car FILE`: every block in a CAR (v1) whose root is the content's CID; `ipfs dag import` accepts it. */
export async function writeCar (path: string, carFile: string, opts: PublishOptions = {}): Promise<PublishResult> {
  const shape = resolveImportShape(opts)
  const source = await scanSource(path)
  const sink = new CarFileBlockstore(carFile, shape.cidVersion)
  await sink.open()
  try {
    const cid = await runImport(source, sink, shape, 'car', opts)
    await sink.finish(cid)
    return result(source, shape, cid, sink.blocks)
  } catch (err) {
    await sink.abort()
    throw err
  }
}

export interface KuboAddOptions extends PublishOptions {
  /** Pin the root (default true). */
  pin?: boolean
  /** Name recorded on the pin (kubo ≥ 0.26), e.g. the registry id. */
  pinName?: string
}

/**
 * Adds to a running kubo through RPC `add?progress=true`, with the same shape
 * options, while hashing locally in parallel; kubo's root must equal ours, or
 * its pin is removed and CidMismatchError thrown.
 */
export async function addToKubo (rpc: KuboRpc, path: string, opts: KuboAddOptions = {}): Promise<PublishResult> {
  const shape = resolveImportShape(opts)
  const source = await scanSource(path)
  const pin = opts.pin ?? true
  const progress = throttledProgress(opts, source.totalBytes)
  opts.onProgress?.({ type: 'citrate:publish:start', totalBytes: source.totalBytes, files: source.fileCount, target: 'kubo' })

  // One failure stops both sides: no point hashing on when kubo gave up, or uploading on when reading failed.
  const stop = new AbortController()
  const signal = opts.signal != null ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal
  const local = importSource(source, indexing(new HashOnlyBlockstore(), opts.index), shape, { signal })
  const boundary = `citrate-${randomBytes(12).toString('hex')}`
  const kuboBytes = new Map<string, number>()
  // Generous, size-scaled limit: a stalled daemon still ends the call.
  const timeoutMs = 120_000 + Math.ceil(source.totalBytes / (5 * 1024 * 1024)) * 1000
  let kuboRoot: string | undefined
  const remote = (async () => {
    const body = ReadableStream.from(multipartBody(source, boundary, signal))
    for await (const line of rpc.ndjson<{ Name?: string, Hash?: string, Bytes?: number }>('add', {
      ...kuboAddParams(shape),
      progress: true,
      pin,
      'pin-name': pin ? opts.pinName : undefined,
      'wrap-with-directory': false
    }, { body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, signal, timeoutMs })) {
      if (line.Hash != null) {
        if (line.Name === source.rootName || kuboRoot == null) kuboRoot = line.Hash
      } else if (line.Bytes != null) {
        kuboBytes.set(line.Name ?? '', line.Bytes)
        progress(sum(kuboBytes.values()))
      }
    }
  })()
  let ours: CID
  try {
    [ours] = await Promise.all([local, remote])
  } catch (err) {
    stop.abort()
    await Promise.allSettled([local, remote])
    // An abort while kubo's answer streams surfaces as a bare DOMException.
    const name = (err as Error)?.name
    if (opts.signal?.aborted === true) throw new AbortedError('add')
    if (name === 'TimeoutError') throw new TimeoutError('kubo add', timeoutMs)
    throw err
  }
  if (kuboRoot == null) throw new InvalidArgumentError('kubo answered the add without a root CID')
  if (kuboRoot !== ours.toString()) {
    if (pin) await rpc.json('pin/rm', { arg: kuboRoot }).catch(() => {})
    throw new CidMismatchError(`kubo stored ${source.rootName} under another CID than computed locally`, ours.toString(), kuboRoot)
  }
  progress(source.totalBytes, true)
  opts.onProgress?.({ type: 'citrate:publish:done', cid: kuboRoot })
  return result(source, shape, ours, 0)
}

async function runImport (source: ScannedSource, sink: HashOnlyBlockstore | CarFileBlockstore, shape: ResolvedImportShape, target: 'hash' | 'car', opts: PublishOptions): Promise<CID> {
  opts.onProgress?.({ type: 'citrate:publish:start', totalBytes: source.totalBytes, files: source.fileCount, target })
  const progress = throttledProgress(opts, source.totalBytes)
  let read = 0
  const cid = await importSource(source, indexing(sink, opts.index), shape, { signal: opts.signal, onBytes: n => { read += n; progress(read) } })
  if (opts.signal?.aborted === true) throw new AbortedError('add')
  progress(read, true)
  opts.onProgress?.({ type: 'citrate:publish:done', cid: cid.toString() })
  return cid
}

/** Passes each block to the DAG index as well as to the sink. */
function indexing (sink: BlockSink, index: DagIndexBuilder | undefined): BlockSink {
  if (index == null) return sink
  const putLeaf = sink.putLeaf
  return {
    put: async (cid, bytes) => {
      index.add(cid, bytes)
      return await sink.put(cid, bytes)
    },
    ...(putLeaf != null
      ? {
          putLeaf: async (cid: CID, blockSize: number) => {
            index.addLeaf(blockSize)
            await putLeaf.call(sink, cid, blockSize)
          }
        }
      : {})
  }
}

function result (source: ScannedSource, shape: ResolvedImportShape, cid: CID, blocks: number): PublishResult {
  return { cid: cid.toString(), size: source.totalBytes, blocks, isDirectory: source.isDirectory, rootName: source.rootName, shape }
}

function throttledProgress (opts: PublishOptions, totalBytes: number): (bytes: number, force?: boolean) => void {
  const interval = opts.progressIntervalMs ?? 200
  let last = 0
  return (bytes, force = false) => {
    const now = Date.now()
    if (!force && now - last < interval) return
    last = now
    opts.onProgress?.({ type: 'citrate:publish:bytes', bytes, totalBytes })
  }
}

function sum (values: Iterable<number>): number {
  let s = 0
  for (const v of values) s += v
  return s
}

/**
 * The multipart body kubo's `add` reads: one part per entry, parents first,
 * paths URL-encoded in `filename`, folders as application/x-directory and
 * symlinks as application/symlink. File bytes are streamed.
 */
async function * multipartBody (source: ScannedSource, boundary: string, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  const enc = new TextEncoder()
  for (const e of source.entries) {
    const type = e.type === 'dir' ? 'application/x-directory' : e.type === 'symlink' ? 'application/symlink' : 'application/octet-stream'
    yield enc.encode(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${encodeURIComponent(e.path)}"\r\nContent-Type: ${type}\r\n\r\n`)
    if (e.type === 'file') yield * readFileChunks(e.absPath, undefined, signal)
    else if (e.type === 'symlink') yield enc.encode(e.target)
    yield enc.encode('\r\n')
  }
  yield enc.encode(`--${boundary}--\r\n`)
}
