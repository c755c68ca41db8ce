/**
 * The blockstore `get` reads through: every block comes from the injected
 * sources (the daemon's gateway, untrusted gateways — a trustless `?format=raw`
 * request each), is checked against its CID before anyone sees it, and counts
 * against a byte budget so a hostile DAG cannot make a small `get` read
 * without end. Sources are asked in order; one that sends a wrong block is
 * dropped for the rest of the `get`. When every source says "not found"
 * (kubo's gateway answers an offline miss with 404 at once) — or some say so
 * and the rest cannot be reached — the answer is ContentNotFoundError; a mix
 * with a source that sent bad data is AllSourcesFailedError.
 */
import type { CID } from 'multiformats/cid'
import { AbortedError, AllSourcesFailedError, BlockVerificationError, ContentNotFoundError, ObjectTooLargeError, SourceRequestError, TimeoutError, type SourceFailure } from '../errors.ts'
import type { BlockSource } from '../fetch/source.ts'
import { isIdentity, verifyBlock } from '../ipld/verify-block.ts'
import { sleep } from '../util/signals.ts'

export interface VerifiedBlockstoreOptions {
  /** Block bytes this store may fetch in all, caching included. */
  maxFetchedBytes: number
  signal: AbortSignal
  /** For the message when `signal` ends by its own time limit. */
  timeoutMs: number
  /** The caller's own signal: its abort is a cancellation, not a timeout. */
  callerSignal?: AbortSignal
}

/** A missed block is asked again this many times from sources that failed transiently (kubo's gateway under load, a 429). */
const TRANSIENT_ROUNDS = 2

export class VerifiedSourceBlockstore {
  fetchedBytes = 0
  readonly #sources: BlockSource[]
  readonly #dropped = new Map<BlockSource, string>()
  /** Sources that sent a block not matching its CID: their silence about a CID proves nothing. */
  readonly #lied = new Set<BlockSource>()
  readonly #cache = new Map<string, Uint8Array>()
  readonly #opts: VerifiedBlockstoreOptions

  constructor (sources: readonly BlockSource[], opts: VerifiedBlockstoreOptions) {
    this.#sources = [...sources]
    this.#opts = opts
  }

  /** The interface-blockstore shape ipfs-unixfs-exporter reads (a generator of the block's bytes). */
  async * get (cid: CID): AsyncGenerator<Uint8Array> {
    yield await this.block(cid)
  }

  async block (cid: CID): Promise<Uint8Array> {
    if (isIdentity(cid)) return cid.multihash.digest
    const key = cid.toString()
    const cached = this.#cache.get(key)
    if (cached != null) return cached
    // The last failure of each source for this block.
    const failures = new Map<string, { reason: string, notFound: boolean, transient: boolean }>()
    let candidates = this.#sources.filter(s => !this.#dropped.has(s))
    for (let round = 0; round <= TRANSIENT_ROUNDS && candidates.length > 0; round++) {
      if (round > 0) await sleep(250 * round, this.#opts.signal).catch(() => {})
      for (const source of candidates) {
        this.#checkSignal()
        let bytes: Uint8Array
        try {
          bytes = await source.getBlock(cid, { signal: this.#opts.signal })
          verifyBlock(cid, bytes) // BlockSource promises this; checked here too, it costs one hash of ≤ 2 MiB
        } catch (err) {
          this.#checkSignal()
          const reason = (err as Error).message
          const notFound = /^HTTP (404|410)\b/.test(reason)
          const permanent = !(err instanceof SourceRequestError) || err.permanent
          failures.set(source.name, { reason, notFound, transient: !permanent })
          if (permanent && !notFound) this.#dropped.set(source, reason)
          if (err instanceof BlockVerificationError || (err as Error).cause instanceof BlockVerificationError) this.#lied.add(source)
          continue
        }
        this.fetchedBytes += bytes.byteLength
        if (this.fetchedBytes > this.#opts.maxFetchedBytes) throw new ObjectTooLargeError('the DAG read so far', this.#opts.maxFetchedBytes, this.fetchedBytes)
        this.#cache.set(key, bytes)
        return bytes
      }
      candidates = candidates.filter(s => failures.get(s.name)?.transient === true)
    }
    const all: SourceFailure[] = [...failures].map(([source, f]) => ({ source, reason: f.reason }))
    for (const [s, reason] of this.#dropped) if (!failures.has(s.name)) all.push({ source: s.name, reason })
    // "Not found" wins when some source answered so and none sent bad data: the others could not be reached or refused to answer.
    const said = [...failures].filter(([, f]) => f.notFound).map(([source]) => source)
    if (said.length > 0 && this.#lied.size === 0) {
      const others = all.filter(f => !said.includes(f.source))
      throw new ContentNotFoundError(`${key} was not found on any source: ${said.join(', ')} answered "not found"` +
        (others.length > 0 ? `; ${others.map(f => `${f.source}: ${f.reason}`).join('; ')}` : ''))
    }
    throw new AllSourcesFailedError(key, all)
  }

  #checkSignal (): void {
    if (!this.#opts.signal.aborted) return
    if (this.#opts.callerSignal?.aborted === true) throw new AbortedError('get')
    throw new TimeoutError('get', this.#opts.timeoutMs)
  }
}
