/**
 * `put`: store bytes under the CID kubo gives for them — `raw` as `ipfs block
 * put` (CIDv1, raw, sha2-256), `dag-json` / `dag-cbor` as `ipfs dag put
 * --input-codec dag-json --store-codec …` (CIDv1, sha2-256), `unixfs` as a
 * plain `ipfs add` (publish/'s kubo-identical importer). The CID is computed
 * here first; then the object is added to a running kubo through its RPC
 * (and pinned unless told not to) and kubo's CID must equal ours, or written
 * as a CAR file (atomically) with no daemon at all, or only hashed.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as dagCbor from '@ipld/dag-cbor'
import * as dagJson from '@ipld/dag-json'
import { CarWriter } from '@ipld/car/writer'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { OBJECT_CODECS, type ObjectCodec } from '@citrate-ipfs/contract/plain'
import type { KuboRpc } from '../daemon/rpc.ts'
import { CidMismatchError, InvalidArgumentError, KuboRpcError, ObjectTooLargeError } from '../errors.ts'
import { MAX_BLOCK_BYTES } from '../ipld/verify-block.ts'
import { addToKubo, hashPath, writeCar } from '../publish/publish.ts'
import { writeFileAtomic } from '../util/atomic-write.ts'

/** Default cap of a UnixFS `put` (a single block is capped at kubo's 2 MiB block limit anyway). */
export const DEFAULT_PUT_MAX_BYTES = 16 * 1024 * 1024

export interface PutObjectOptions {
  /** Default `unixfs` (what `ipfs add` makes of a file). */
  codec?: ObjectCodec
  /** Add to this running kubo (RPC block/put, dag/put or add). */
  rpc?: KuboRpc
  /** Instead: write a CAR file (v1, the object's blocks, root = its CID). */
  car?: string
  /** Pin in kubo (default true). kubo pins a dag node recursively without fetching what it links to: linked blocks it has are kept too. */
  pin?: boolean
  /** Largest input accepted, bytes; default 16 MiB (raw and dag nodes: at most the 2 MiB block limit). */
  maxBytes?: number
  signal?: AbortSignal
  /** Time limit of kubo's RPC call; default 60 s. */
  timeoutMs?: number
}

export interface PutObjectResult {
  cid: string
  codec: ObjectCodec
  /** Input bytes. */
  size: number
  /** Where it went: the daemon, a CAR file, or nowhere (only hashed). */
  target: 'kubo' | 'car' | 'hash'
  pinned: boolean
}

export async function putObject (bytes: Uint8Array, opts: PutObjectOptions = {}): Promise<PutObjectResult> {
  const codec = opts.codec ?? 'unixfs'
  if (!OBJECT_CODECS.includes(codec)) throw new InvalidArgumentError(`unknown codec ${JSON.stringify(codec)} (use ${OBJECT_CODECS.join(', ')})`)
  if (opts.rpc != null && opts.car != null) throw new InvalidArgumentError('put goes either to the daemon or into a CAR file, not both')
  const maxBytes = opts.maxBytes ?? DEFAULT_PUT_MAX_BYTES
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new InvalidArgumentError(`the size cap must be a whole number of bytes ≥ 1 (got ${String(opts.maxBytes)})`)
  if (bytes.byteLength > maxBytes) throw new ObjectTooLargeError('the input', maxBytes, bytes.byteLength)
  const target = opts.rpc != null ? 'kubo' : opts.car != null ? 'car' : 'hash'
  const pin = target === 'kubo' && (opts.pin ?? true)
  const done = (cid: string): PutObjectResult => ({ cid, codec, size: bytes.byteLength, target, pinned: pin })
  if (codec === 'unixfs') return done(await putUnixfs(bytes, opts, pin))

  const block = encodeBlock(bytes, codec)
  if (block.byteLength > MAX_BLOCK_BYTES) throw new ObjectTooLargeError(`the ${codec} block`, MAX_BLOCK_BYTES, block.byteLength)
  const cid = CID.createV1(codec === 'raw' ? raw.code : codec === 'dag-cbor' ? dagCbor.code : dagJson.code, await sha256.digest(block))
  if (opts.car != null) await writeSingleBlockCar(opts.car, cid, block)
  if (opts.rpc != null) {
    const kuboCid = await kuboPut(opts.rpc, codec, bytes, pin, opts)
    if (kuboCid !== cid.toString()) {
      if (pin) await opts.rpc.json('pin/rm', { arg: kuboCid }).catch(() => {})
      throw new CidMismatchError(`kubo stored the ${codec} object under another CID than computed locally`, cid.toString(), kuboCid)
    }
  }
  return done(cid.toString())
}

/** The block a codec makes of the input: the bytes themselves (raw), or the dag-json input parsed and re-encoded. */
function encodeBlock (bytes: Uint8Array, codec: Exclude<ObjectCodec, 'unixfs'>): Uint8Array {
  if (codec === 'raw') return bytes
  let value: unknown
  try {
    value = dagJson.decode(bytes)
  } catch (err) {
    throw new InvalidArgumentError(`the input is not valid dag-json (JSON with links as {"/": "<cid>"} and bytes as {"/": {"bytes": "<base64>"}}): ${(err as Error).message}`)
  }
  try {
    return codec === 'dag-cbor' ? dagCbor.encode(value) : dagJson.encode(value)
  } catch (err) {
    throw new InvalidArgumentError(`the input cannot be stored as ${codec}: ${(err as Error).message}`)
  }
}

async function kuboPut (rpc: KuboRpc, codec: Exclude<ObjectCodec, 'unixfs'>, bytes: Uint8Array, pin: boolean, opts: PutObjectOptions): Promise<string> {
  const body = new FormData()
  body.append('file', new Blob([bytes as Uint8Array<ArrayBuffer>]), 'data')
  const call = { body, signal: opts.signal, timeoutMs: opts.timeoutMs ?? 60_000 }
  if (codec === 'raw') {
    const r = await rpc.json<{ Key?: string }>('block/put', { 'cid-codec': 'raw', mhtype: 'sha2-256', mhlen: 32, pin }, call)
    if (typeof r?.Key !== 'string') throw new KuboRpcError('kubo answered block/put without a CID')
    return r.Key
  }
  const r = await rpc.json<{ Cid?: { '/'?: string } }>('dag/put', { 'store-codec': codec, 'input-codec': 'dag-json', hash: 'sha2-256', pin }, call)
  const cid = r?.Cid?.['/']
  if (typeof cid !== 'string') throw new KuboRpcError('kubo answered dag/put without a CID')
  return cid
}

/** UnixFS through publish/ (kubo's `ipfs add` defaults), which reads from a path: the bytes go to a private temp file first. */
async function putUnixfs (bytes: Uint8Array, opts: PutObjectOptions, pin: boolean): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'citrate-put-'))
  try {
    const file = join(dir, 'data')
    await writeFile(file, bytes, { mode: 0o600 })
    if (opts.rpc != null) return (await addToKubo(opts.rpc, file, { pin, signal: opts.signal })).cid
    if (opts.car != null) return (await writeCar(file, opts.car, { signal: opts.signal })).cid
    return (await hashPath(file, { signal: opts.signal })).cid
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function writeSingleBlockCar (path: string, cid: CID, block: Uint8Array): Promise<void> {
  const { writer, out } = CarWriter.create([cid])
  const parts: Uint8Array[] = []
  const collect = (async () => { for await (const p of out) parts.push(p) })()
  await writer.put({ cid, bytes: block })
  await writer.close()
  await collect
  await writeFileAtomic(path, Buffer.concat(parts))
}
