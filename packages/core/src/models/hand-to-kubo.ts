/**
 * auto_pin for content that came from gateways: the verified blocks are handed
 * to the local kubo as one CAR (`dag/import`, roots pinned), so kubo never
 * fetches them again. The CAR is streamed, never buffered, from the blocks the
 * retrieval rebuilds from disk (each re-verified; nothing unverified is ever
 * given to kubo).
 */
import type { CID } from 'multiformats/cid'
import type { KuboRpc } from '../daemon/rpc.ts'
import { KuboRpcError } from '../errors.ts'
import type { VerifiedBlock } from '../fetch/index.ts'

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

async function * multipartCar (root: CID, blocks: AsyncIterable<VerifiedBlock>, boundary: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="pull.car"\r\nContent-Type: application/octet-stream\r\n\r\n`)
  yield carHeader(root)
  for await (const b of blocks) {
    yield varint(b.cid.bytes.length + b.bytes.length)
    yield b.cid.bytes
    yield b.bytes
  }
  yield Buffer.from(`\r\n--${boundary}--\r\n`)
}

/** Imports the pulled DAG into kubo and pins its root. */
export async function handToKubo (opts: { root: CID, blocks: AsyncIterable<VerifiedBlock>, rpc: KuboRpc, timeoutMs: number, signal?: AbortSignal }): Promise<void> {
  const boundary = `citrate-${Math.random().toString(36).slice(2)}`
  const body = ReadableStream.from(multipartCar(opts.root, opts.blocks, boundary))
  const res = await opts.rpc.request('dag/import', { 'pin-roots': true, stats: false }, {
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
