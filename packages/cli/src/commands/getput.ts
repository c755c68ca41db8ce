/**
 * `get` and `put`: small objects by CID (assets, contract off-chain data).
 * `get` prints a verified file, raw block or dag-cbor / dag-json node (as
 * dag-json) to stdout, or writes it atomically with -o; `put` stores a file or
 * stdin under the CID kubo gives it, in the running daemon (pinned) or a CAR.
 */
import { open, stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import {
  DaemonManager, DaemonNotRunningError, DEFAULT_GET_MAX_BYTES, DEFAULT_PUT_MAX_BYTES, getObject, InvalidArgumentError, OBJECT_CODECS,
  ObjectTooLargeError, putObject, resolveSources, writeFileAtomic, type ObjectCodec, type SourceMode
} from '@citrate-ipfs/core'
import { formatBytes } from '@citrate-ipfs/contract/plain'
import type { Context } from '../context.ts'
import { UsageError } from '../errors.ts'

export interface GetCommandOptions {
  output?: string
  maxBytes?: string
  source?: string
}

export interface PutCommandOptions {
  codec?: string
  car?: string
  pin?: boolean
  maxBytes?: string
}

const SOURCES: readonly SourceMode[] = ['auto', 'daemon', 'gateway']

export async function getCommand (ctx: Context, opts: GetCommandOptions, ref: string): Promise<void> {
  const maxBytes = parseMaxBytes(opts.maxBytes, DEFAULT_GET_MAX_BYTES)
  const mode = (opts.source ?? 'auto') as SourceMode
  if (!SOURCES.includes(mode)) throw new InvalidArgumentError(`--source must be one of ${SOURCES.join(', ')} (got "${opts.source ?? ''}")`)
  const { sources } = await resolveSources({ config: ctx.config, mode })
  const got = await getObject(ref, { sources, maxBytes })
  const isNode = got.kind === 'dag-cbor' || got.kind === 'dag-json'
  const summary = { root: got.root, path: got.path, cid: got.cid, kind: got.kind, size: got.content.byteLength }
  if (opts.output != null) {
    const target = resolve(opts.output)
    await writeFileAtomic(target, got.content)
    ctx.out.result({ ...summary, output: target }, `wrote ${formatBytes(got.content.byteLength)} (${got.kind}, verified) to ${target}`)
    return
  }
  if (ctx.out.json) {
    const text = Buffer.from(got.content).toString('utf8')
    ctx.out.result(isNode ? { ...summary, value: JSON.parse(text) as unknown } : { ...summary, base64: Buffer.from(got.content).toString('base64') }, '')
    return
  }
  await writeOut(ctx.out.stdout, got.content)
  // A node's dag-json text ends without a newline; a terminal prompt should not land on its last line.
  if (isNode) await writeOut(ctx.out.stdout, Buffer.from('\n'))
}

export async function putCommand (ctx: Context, opts: PutCommandOptions, file?: string): Promise<void> {
  const codec = (opts.codec ?? 'unixfs') as ObjectCodec
  if (!OBJECT_CODECS.includes(codec)) throw new InvalidArgumentError(`--codec must be one of ${OBJECT_CODECS.join(', ')} (got "${opts.codec ?? ''}")`)
  const maxBytes = parseMaxBytes(opts.maxBytes, DEFAULT_PUT_MAX_BYTES)
  // With nothing piped in, waiting on a terminal for input would look like a hang.
  if (file == null && process.stdin.isTTY) throw new UsageError('put needs a FILE, or data piped to it (`… | citrate-ipfs put`; `-` reads standard input explicitly)')
  const bytes = file == null || file === '-' ? await readCapped(process.stdin, maxBytes, 'standard input') : await readFileCapped(file, maxBytes)
  let rpc
  if (opts.car == null) {
    try {
      rpc = await new DaemonManager({ config: ctx.config }).rpc()
    } catch (err) {
      if (err instanceof DaemonNotRunningError) throw new DaemonNotRunningError('the kubo daemon is not running: start it (`citrate-ipfs daemon start`), or pass --car FILE to write a CAR')
      throw err
    }
  }
  const car = opts.car != null ? resolve(opts.car) : undefined
  const r = await putObject(bytes, { codec, rpc, car, pin: opts.pin !== false, maxBytes })
  const url = `ipfs://${r.cid}`
  const where = r.target === 'car' ? `written to ${car ?? ''}` : r.pinned ? 'added to the local daemon and pinned' : 'added to the local daemon, not pinned'
  ctx.out.result({ ...r, url, ...(car != null ? { car } : {}) }, `${r.cid}\n${url}  (${codec}, ${formatBytes(r.size)}, ${where})`)
}

function parseMaxBytes (text: string | undefined, fallback: number): number {
  if (text == null) return fallback
  if (!/^[1-9][0-9]*$/.test(text.trim())) throw new InvalidArgumentError(`--max-bytes must be a whole number of bytes ≥ 1 (got "${text}")`)
  const n = Number(text.trim())
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`--max-bytes is too large (got "${text}")`)
  return n
}

async function readFileCapped (file: string, maxBytes: number): Promise<Uint8Array> {
  const path = resolve(file)
  const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'ENOENT' ? new InvalidArgumentError(`no such file: ${path}`) : err
  })
  if (!st.isFile()) throw new InvalidArgumentError(`${path} is not a file (a folder goes through \`citrate-ipfs add\`)`)
  if (st.size > maxBytes) throw new ObjectTooLargeError(path, maxBytes, st.size)
  const fh = await open(path, 'r')
  try {
    return await readCapped(fh.createReadStream(), maxBytes, path)
  } finally {
    await fh.close()
  }
}

/** Reads a stream to its end, refusing (without reading on) once it passes the cap. */
async function readCapped (stream: AsyncIterable<Buffer | string>, maxBytes: number, what: string): Promise<Uint8Array> {
  const parts: Buffer[] = []
  let total = 0
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    total += b.byteLength
    if (total > maxBytes) throw new ObjectTooLargeError(what, maxBytes)
    parts.push(b)
  }
  return Buffer.concat(parts, total)
}

async function writeOut (out: NodeJS.WriteStream, bytes: Uint8Array): Promise<void> {
  await new Promise<void>((resolve, reject) => { out.write(bytes, err => { if (err != null) reject(err); else resolve() }) })
}
