/**
 * `get`: one small object by `<cid>[/path]` — a UnixFS file, a raw block, or
 * a dag-cbor / dag-json node (answered as dag-json text: links as
 * `{"/": "<cid>"}`, bytes as `{"/": {"bytes": "<base64>"}}`) — fetched from
 * the injected sources with every block verified (VerifiedSourceBlockstore),
 * and refused past a size cap before its bytes are read. A path walks UnixFS
 * folders (HAMT shards included: ipld/resolve-path.ts, as a pull does) and the
 * fields and links of dag-cbor / dag-json nodes, hopping between the two as
 * links lead; the target is read with ipfs-unixfs-exporter.
 */
import * as dagCbor from '@ipld/dag-cbor'
import * as dagJson from '@ipld/dag-json'
import { exporter, type UnixFSEntry } from 'ipfs-unixfs-exporter'
import { CID } from 'multiformats/cid'
import type { ObjectKind } from '@citrate-ipfs/contract/plain'
import { AbortedError, CitrateError, ContentNotFoundError, InvalidArgumentError, InvalidDagError, ObjectTooLargeError, PathNotFoundError, TimeoutError, UnsupportedContentError } from '../errors.ts'
import type { BlockSource } from '../fetch/source.ts'
import { parseContentPath } from '../ipld/content-path.ts'
import { resolveContentPath } from '../ipld/resolve-path.ts'
import { CODEC_DAG_PB, CODEC_RAW } from '../ipld/verify-block.ts'
import { withTimeout } from '../util/signals.ts'
import { VerifiedSourceBlockstore } from './blockstore.ts'

/** Default cap of a `get`: contract data and asset metadata are small; models go through pull. */
export const DEFAULT_GET_MAX_BYTES = 16 * 1024 * 1024
/** Default time limit of a whole `get`. */
export const DEFAULT_GET_TIMEOUT_MS = 60_000
/** Links followed from node to node along a path, at most (a loop of links cannot spin). */
const MAX_LINK_HOPS = 64

export interface GetObjectOptions {
  /** Where blocks come from, in order (models' resolveSources builds the same list a pull uses). */
  sources: readonly BlockSource[]
  /** Largest object returned, bytes (a dag node's size is that of its dag-json text). Default 16 MiB. */
  maxBytes?: number
  /** Time limit of the whole get; default 60 s. */
  timeoutMs?: number
  signal?: AbortSignal
}

export interface GetObjectResult {
  /** The CID asked for. */
  root: string
  /** Path below the root, `/`-joined ('' for the root). */
  path: string
  /** CID of the node the path leads to. */
  cid: string
  kind: ObjectKind
  /** File or block bytes; for dag-cbor / dag-json, the UTF-8 dag-json text of the value. */
  content: Uint8Array
  /** Block bytes fetched (and verified) to answer. */
  fetchedBytes: number
}

export async function getObject (ref: string, opts: GetObjectOptions): Promise<GetObjectResult> {
  // What users paste (a CID, <cid>/path, /ipfs/…, ipfs://…, gateway links), with segments that may be field names.
  const { cid: root, segments } = parseContentPath(ref, { fieldNames: true })
  const maxBytes = opts.maxBytes ?? DEFAULT_GET_MAX_BYTES
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new InvalidArgumentError(`the size cap must be a whole number of bytes ≥ 1 (got ${String(opts.maxBytes)})`)
  const timeoutMs = opts.timeoutMs ?? DEFAULT_GET_TIMEOUT_MS
  const signal = withTimeout(timeoutMs, opts.signal)
  // The object itself, plus its DAG's interior nodes and the folders and shards along the path: a few MiB is generous.
  const store = new VerifiedSourceBlockstore(opts.sources, { maxFetchedBytes: maxBytes * 2 + 8 * 1024 * 1024, signal, timeoutMs, callerSignal: opts.signal })
  const found = await resolve(root, segments, store, maxBytes, signal).catch((err: unknown) => {
    if (opts.signal?.aborted === true) throw new AbortedError('get')
    if (signal.aborted && !(err instanceof CitrateError)) throw new TimeoutError(`get ${ref}`, timeoutMs)
    throw translate(err, ref)
  })
  return { root: root.toString(), path: segments.join('/'), ...found, fetchedBytes: store.fetchedBytes }
}

async function resolve (root: CID, segments: string[], store: VerifiedSourceBlockstore, maxBytes: number, signal: AbortSignal): Promise<{ cid: string, kind: ObjectKind, content: Uint8Array }> {
  let cid = root
  let rest = segments
  const walked: string[] = []
  for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
    if (cid.code === dagCbor.code || cid.code === dagJson.code) {
      const kind = cid.code === dagCbor.code ? 'dag-cbor' : 'dag-json'
      const node = decodeDagNode(cid, await store.block(cid), kind)
      let value: unknown = node
      while (rest.length > 0 && CID.asCID(value) == null) {
        const [seg = '', ...after] = rest
        value = field(value, seg, root, walked)
        walked.push(seg)
        rest = after
      }
      const link = CID.asCID(value)
      // A path that ends on a link means the linked node, as `ipfs dag get <cid>/link` does.
      if (link != null && value !== node) { cid = link; continue }
      const content = dagJson.encode(value)
      if (content.byteLength > maxBytes) throw new ObjectTooLargeError(`the ${kind} value at ${describe(root, walked)} (as dag-json)`, maxBytes, content.byteLength)
      return { cid: cid.toString(), kind, content }
    }
    if (cid.code !== CODEC_DAG_PB && cid.code !== CODEC_RAW) throw new UnsupportedContentError(`codec 0x${cid.code.toString(16)} in ${cid.toString()} (get reads UnixFS, raw, dag-cbor and dag-json)`)
    // Folders one segment at a time, through the same verified walk a pull uses (plain folders and HAMT shards), so
    // a folder entry that links to a dag-cbor / dag-json node is walked on as fields.
    while (rest.length > 0 && (cid.code === CODEC_DAG_PB || cid.code === CODEC_RAW)) {
      const [seg = '', ...after] = rest
      cid = (await resolveContentPath(cid, [seg], async c => await store.block(c), { rootLabel: describe(root, walked) })).cid
      walked.push(seg)
      rest = after
    }
    if (rest.length > 0) continue // the folder entry links to an IPLD node: its fields are walked above
    const entry = await exporter(cid, store, { signal })
    if (entry.type === 'object') continue // an IPLD node reached through a folder: answered above, on the next turn
    return { cid: entry.cid.toString(), ...await fileBytes(entry, maxBytes, describe(root, walked), signal) }
  }
  throw new InvalidArgumentError(`the path ${describe(root, segments)} goes through more than ${MAX_LINK_HOPS} links`)
}

async function fileBytes (entry: UnixFSEntry, maxBytes: number, where: string, signal: AbortSignal): Promise<{ kind: ObjectKind, content: Uint8Array }> {
  if (entry.type === 'directory') {
    const names: string[] = []
    for await (const e of entry.entries({ signal })) { names.push(e.name); if (names.length > 10) break }
    throw new InvalidArgumentError(`${where} is a folder, not a file: name a file inside it (${names.slice(0, 10).map(n => JSON.stringify(n)).join(', ')}${names.length > 10 ? ', …' : ''})`)
  }
  if (entry.type === 'object') throw new InvalidDagError(`${where} is an IPLD node where a file was expected`)
  const size = Number(entry.size)
  // The size comes from the verified root node: checked before a byte of the content is fetched.
  if (size > maxBytes) throw new ObjectTooLargeError(`${where}`, maxBytes, size)
  const content = new Uint8Array(size)
  let at = 0
  for await (const chunk of entry.content({ signal })) {
    if (at + chunk.byteLength > size) throw new InvalidDagError(`${where} has more bytes than its root node declares (${size})`)
    content.set(chunk, at)
    at += chunk.byteLength
  }
  if (at !== size) throw new InvalidDagError(`${where} has ${at} bytes, its root node declares ${size}`)
  return { kind: entry.type === 'file' ? 'file' : 'raw', content }
}

function decodeDagNode (cid: CID, block: Uint8Array, kind: 'dag-cbor' | 'dag-json'): unknown {
  try {
    return kind === 'dag-cbor' ? dagCbor.decode(block) : dagJson.decode(block)
  } catch (err) {
    throw new InvalidDagError(`${cid.toString()} is not valid ${kind}: ${(err as Error).message}`)
  }
}

/** One step of a path inside an IPLD node: an own field of a map, or an index of a list. */
function field (value: unknown, seg: string, root: CID, walked: string[]): unknown {
  const at = describe(root, walked)
  if (Array.isArray(value)) {
    const i = /^(0|[1-9][0-9]*)$/.test(seg) ? Number(seg) : NaN
    if (!(i < value.length)) throw new PathNotFoundError(at, seg, `it is a list of ${value.length}`)
    return value[i]
  }
  if (value != null && typeof value === 'object' && !(value instanceof Uint8Array) && Object.hasOwn(value, seg)) return (value as Record<string, unknown>)[seg]
  const what = value == null ? 'null' : value instanceof Uint8Array ? 'bytes' : typeof value === 'object' ? 'a map' : typeof value
  throw new PathNotFoundError(at, seg, what === 'a map' ? 'the node has no field of that name' : `it is ${what}, with no fields`)
}

function describe (root: CID, segments: string[]): string {
  return segments.length > 0 ? `${root.toString()}/${segments.join('/')}` : root.toString()
}

/** The exporter's own errors in our vocabulary. */
function translate (err: unknown, ref: string): unknown {
  if (err instanceof CitrateError) return err
  const name = (err as Error)?.name
  const message = (err as Error)?.message ?? String(err)
  if (name === 'NotFoundError' || name === 'BadPathError') return new ContentNotFoundError(`${ref}: ${message.replace(/^Could not resolve path/, 'no such path:')}`)
  if (name === 'NotUnixFSError') return new UnsupportedContentError(`${ref} is dag-pb but not UnixFS (${message})`)
  if (name === 'NoResolverError') return new UnsupportedContentError(`${ref}: ${message}`)
  if (name === 'OverReadError' || name === 'UnderReadError' || name === 'InvalidParametersError') return new InvalidDagError(`${ref}: ${message}`)
  return err
}
