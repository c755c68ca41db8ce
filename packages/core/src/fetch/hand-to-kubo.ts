/**
 * auto_pin for content that came from gateways: the verified blocks are handed
 * to the local kubo as one CAR (`dag/import`, roots pinned), so kubo never
 * fetches them again. The CAR is streamed, never buffered: interior blocks are
 * read back from the pull's block cache, leaves are rebuilt from the file bytes
 * on disk and re-verified against their CIDs (a leaf we cannot rebuild exactly
 * stops the hand-over; nothing unverified is ever given to kubo).
 */
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import type { CID } from 'multiformats/cid'
import { KuboRpc } from '../daemon/rpc.ts'
import { KuboRpcError, UnsupportedContentError } from '../errors.ts'
import type { PullJournal } from './journal.ts'
import { decodeNode, leafBlockFromData } from '../ipld/unixfs.ts'
import { isIdentity } from '../ipld/verify-block.ts'

interface Block { cid: CID, bytes: Uint8Array }

/** Every block of the DAG under `root`, rebuilt from what the pull left on disk. */
async function * localBlocks (cid: CID, path: string, journal: PullJournal, offset: number, size: number | undefined): AsyncGenerator<Block> {
  if (isIdentity(cid)) return
  const cached = await journal.getBlock(cid)
  if (cached != null) {
    yield { cid, bytes: cached }
    const node = decodeNode(cid, cached)
    if (node.type === 'file') {
      let at = offset + node.data.byteLength
      for (const child of node.children) {
        yield * localBlocks(child.cid, path, journal, at, child.size)
        at += child.size
      }
    } else {
      for (const e of node.entries) yield * localBlocks(e.cid, join(path, e.name), journal, 0, undefined)
      if (node.type === 'hamt') for (const s of node.shards) yield * localBlocks(s, path, journal, 0, undefined)
    }
    return
  }
  // Not cached: a leaf (or a single-block file), whose bytes are in the file.
  const fh = await open(path, 'r')
  let data: Buffer
  try {
    const length = size ?? (await fh.stat()).size
    data = Buffer.alloc(length)
    let got = 0
    while (got < length) {
      const { bytesRead } = await fh.read(data, got, length - got, offset + got)
      if (bytesRead === 0) break
      got += bytesRead
    }
  } finally {
    await fh.close()
  }
  const bytes = leafBlockFromData(cid, data)
  if (bytes != null) {
    yield { cid, bytes }
    return
  }
  throw new UnsupportedContentError(`a leaf (${cid.toString()}) whose encoding cannot be rebuilt for kubo`)
}

function varint (n: number): Uint8Array {
  const out: number[] = []
  while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128) }
  out.push(n)
  return Uint8Array.from(out)
}

/** CARv1 header {roots: [root], version: 1} in dag-cbor, written by hand (tag 42 CID link). */
function carHeader (root: CID): Uint8Array {
  const cidBytes = Uint8Array.from([0x00, ...root.bytes]) // CID links in dag-cbor carry a leading 0x00
  const cidLen = cidBytes.length < 24 ? [0x40 | cidBytes.length] : cidBytes.length < 256 ? [0x58, cidBytes.length] : [0x59, cidBytes.length >> 8, cidBytes.length & 0xff]
  const body = Uint8Array.from([
    0xa2,
    0x65, ...Buffer.from('roots'), 0x81, 0xd8, 0x2a, ...cidLen, ...cidBytes,
    0x67, ...Buffer.from('version'), 0x01
  ])
  return Uint8Array.from([...varint(body.length), ...body])
}

async function * multipartCar (root: CID, contentPath: string, journal: PullJournal, boundary: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="pull.car"\r\nContent-Type: application/octet-stream\r\n\r\n`)
  yield carHeader(root)
  for await (const b of localBlocks(root, contentPath, journal, 0, undefined)) {
    yield varint(b.cid.bytes.length + b.bytes.length)
    yield b.cid.bytes
    yield b.bytes
  }
  yield Buffer.from(`\r\n--${boundary}--\r\n`)
}

/** Imports the pulled DAG into kubo and pins its root. */
export async function handToKubo (opts: { root: CID, contentPath: string, journal: PullJournal, apiUrl: string, timeoutMs: number, signal?: AbortSignal }): Promise<void> {
  const boundary = `citrate-${Math.random().toString(36).slice(2)}`
  const body = ReadableStream.from(multipartCar(opts.root, opts.contentPath, opts.journal, boundary))
  const rpc = new KuboRpc(opts.apiUrl)
  const res = await rpc.request('dag/import', { 'pin-roots': true, stats: false }, {
    body: body as unknown as RequestInit['body'],
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    timeoutMs: opts.timeoutMs,
    signal: opts.signal
  })
  const text = await res.text()
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    const o = JSON.parse(line) as { Root?: { Cid?: { '/': string }, PinErrorMsg?: string }, Message?: string, Type?: string }
    if (o.Type === 'error') throw new KuboRpcError(`kubo RPC dag/import: ${o.Message ?? 'error'}`)
    if (o.Root?.PinErrorMsg != null && o.Root.PinErrorMsg !== '') throw new KuboRpcError(`kubo could not pin ${opts.root.toString()}: ${o.Root.PinErrorMsg}`)
  }
}
