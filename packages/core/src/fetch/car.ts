/**
 * A streaming CARv1 reader with hard caps, for untrusted gateway responses.
 * `@ipld/car` would trust a section length from the wire and buffer it; here a
 * header over 64 KiB or a section over 2 MiB + CID is an error, so memory stays
 * bounded by one section whatever the stream claims. The header's roots are
 * ignored (the spec says not to trust them); blocks are NOT verified here.
 */
import { CID } from 'multiformats/cid'
import { SourceRequestError } from '../errors.ts'
import { MAX_BLOCK_BYTES } from '../ipld/verify-block.ts'

const MAX_HEADER_BYTES = 64 * 1024
const MAX_SECTION_BYTES = MAX_BLOCK_BYTES + 256

export async function * readCarBlocks (chunks: AsyncIterable<Uint8Array>): AsyncGenerator<{ cid: CID, bytes: Uint8Array }> {
  // Unconsumed network chunks, oldest first; `head` bytes of the first are consumed.
  const queue: Uint8Array[] = []
  let head = 0
  let queued = 0
  let headerDone = false
  const iter = chunks[Symbol.asyncIterator]()
  let ended = false

  /** Pulls chunks until `n` bytes are queued; false when the stream ends first. */
  const fill = async (n: number): Promise<boolean> => {
    while (queued < n && !ended) {
      const next = await iter.next()
      if (next.done === true) { ended = true; break }
      if (next.value.byteLength === 0) continue
      queue.push(next.value)
      queued += next.value.byteLength
    }
    return queued >= n
  }
  const byteAt = (i: number): number => {
    let at = head + i
    for (const c of queue) {
      if (at < c.byteLength) return c[at] as number
      at -= c.byteLength
    }
    return 0
  }
  /** Removes `n` queued bytes (filled beforehand): a view when they sit in one chunk, else one exact-size copy. */
  const take = (n: number): Uint8Array => {
    const first = queue[0] as Uint8Array
    if (first.byteLength - head >= n) {
      const out = first.subarray(head, head + n)
      head += n
      queued -= n
      if (head === first.byteLength) { queue.shift(); head = 0 }
      return out
    }
    const out = new Uint8Array(n)
    let have = 0
    while (have < n) {
      const c = queue[0] as Uint8Array
      const part = Math.min(c.byteLength - head, n - have)
      out.set(c.subarray(head, head + part), have)
      have += part
      head += part
      if (head === c.byteLength) { queue.shift(); head = 0 }
    }
    queued -= n
    return out
  }
  const readVarint = async (): Promise<number | undefined> => {
    let value = 0
    for (let i = 0; i < 9; i++) {
      if (!await fill(i + 1)) {
        if (i === 0) return undefined
        throw new SourceRequestError('truncated CAR (inside a length prefix)', false)
      }
      const b = byteAt(i)
      value += (b & 0x7f) * 2 ** (7 * i)
      if ((b & 0x80) === 0) {
        take(i + 1)
        return value
      }
    }
    throw new SourceRequestError('malformed CAR (length prefix too long)', true)
  }

  try {
    while (true) {
      const len = await readVarint()
      if (len === undefined) {
        if (!headerDone) throw new SourceRequestError('empty CAR response', false)
        return
      }
      if (!headerDone) {
        if (len > MAX_HEADER_BYTES) throw new SourceRequestError(`CAR header of ${len} bytes is implausible`, true)
        if (!await fill(len)) throw new SourceRequestError('truncated CAR (inside the header)', false)
        // dag-cbor {version: 1, roots: [...]}: only the version is checked; roots are never trusted.
        const header = Buffer.from(take(len))
        if (!header.includes(Buffer.from([0x67, 0x76, 0x65, 0x72, 0x73, 0x69, 0x6f, 0x6e, 0x01]))) {
          throw new SourceRequestError('unsupported CAR (not version 1)', true)
        }
        headerDone = true
        continue
      }
      if (len > MAX_SECTION_BYTES) throw new SourceRequestError(`CAR section of ${len} bytes exceeds the block limit`, true)
      if (len === 0) throw new SourceRequestError('malformed CAR (empty section)', true)
      if (!await fill(len)) throw new SourceRequestError('truncated CAR (inside a block)', false)
      const section = take(len)
      let cid: CID
      let bytes: Uint8Array
      try {
        [cid, bytes] = CID.decodeFirst(section)
      } catch (err) {
        throw new SourceRequestError(`malformed CAR (bad CID in a section: ${(err as Error).message})`, true)
      }
      yield { cid, bytes }
    }
  } finally {
    if (!ended) await iter.return?.()
  }
}
