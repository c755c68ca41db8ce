/** The block source abstraction every retrieval path goes through. */
import type { SecureContextOptions } from 'node:tls'
import type { CID } from 'multiformats/cid'
import { SourceRequestError } from '../errors.ts'
import type { FailureClass } from '../net/classify.ts'
import type { HealthPolicy } from '../net/health.ts'
import type { DownloadLimiter } from '../net/rate-limit.ts'

/** Certificate authorities for https byte-range reads, instead of Node's defaults. */
export type CertificateAuthorities = SecureContextOptions['ca']

export interface VerifiedBlock { cid: CID, bytes: Uint8Array }

export interface BlockRequestOptions {
  signal?: AbortSignal
  /** The pull's bandwidth cap: every byte read is counted against it, and reading waits while it is spent. */
  limiter?: DownloadLimiter
  /** No response headers within this long = not answering (SourceNotAnsweringError); default: the stall timeout alone. */
  firstByteMs?: number
}

export interface CarRequestOptions extends BlockRequestOptions {
  /** `entity-bytes=from:to` (inclusive; `to` omitted = to the end). */
  entityBytes?: { from: number, to?: number }
  /** Called with the bytes of every chunk read off the wire (for counting). */
  onWireBytes?: (n: number) => void
}

/** Where verified blocks come from. Implementations must verify before returning. */
export interface BlockSource {
  /** Human name shown in progress and errors, e.g. `daemon` or a gateway URL. */
  readonly name: string
  readonly kind: 'daemon' | 'gateway'
  getBlock: (cid: CID, opts?: BlockRequestOptions) => Promise<Uint8Array>
  /** Every block of a CAR response for `cid` (dag-scope=entity), each verified; unrequested blocks included, the caller filters. */
  carBlocks: (cid: CID, opts?: CarRequestOptions) => AsyncIterable<VerifiedBlock>
  /**
   * Base URL (http or https) to ask for byte ranges of a file's bytes, which the
   * caller then proves leaf by leaf against the CIDs of the verified DAG;
   * undefined when this source is only spoken to with trustless requests.
   */
  readonly rangeBaseUrl?: string
  /** Certificate authorities for https byte-range reads (default: Node's). */
  readonly ca?: CertificateAuthorities
  /** No bytes for this long = stalled. */
  readonly stallMs?: number
  /** No connection or first response byte for this long = not answering, set aside (fetcher.ts). Default 4 s for gateways, none for the daemon. */
  readonly firstByteMs?: number
  /** Requests in flight at most (source-pool.ts's caps by kind otherwise: daemon 16, gateway 8). */
  readonly maxInFlight?: number
  /** How this source's transient failures are cooled down and when they drop it (net/health.ts); defaults there. */
  readonly retry?: HealthPolicy
}



/** A SourceRequestError of the class classify.ts gave. */
export function sourceFailure (message: string, kind: FailureClass, options?: ErrorOptions & { retryAfterMs?: number, connectionLost?: boolean }): SourceRequestError {
  return new SourceRequestError(message, kind === 'permanent', options)
}
