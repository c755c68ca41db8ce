/**
 * `add` options and how they map onto ipfs-unixfs-importer and onto kubo's own
 * `ipfs add` flags, so a CID computed here equals kubo's for the same options.
 *
 * Resolution mirrors kubo: start from the profile (kubo's default is
 * unixfs-v0-2015), `--cid-version 1` switches raw leaves on unless
 * `--raw-leaves` says otherwise, and an explicit chunker replaces the
 * profile's chunk size. Everything is passed explicitly to both sides.
 */
import { InvalidArgumentError } from '../errors.ts'

export type UnixfsProfile = 'unixfs-v0-2015' | 'unixfs-v1-2025'
export const UNIXFS_PROFILES: readonly UnixfsProfile[] = ['unixfs-v0-2015', 'unixfs-v1-2025']

export interface ImportShapeOptions {
  cidVersion?: 0 | 1
  profile?: UnixfsProfile
  /** kubo's chunker syntax; only `size-N` is supported. */
  chunker?: string
  rawLeaves?: boolean
}

/** Every knob that decides the CID, fully resolved. */
export interface ResolvedImportShape {
  cidVersion: 0 | 1
  rawLeaves: boolean
  chunkSize: number
  maxLinks: number
  shardSplitStrategy: 'links-bytes' | 'block-bytes'
}

/** Largest chunk kubo accepts (its block size limit is 2 MiB including the wrapping). */
export const MAX_CHUNK_SIZE = 1024 * 1024 * 2 - 1024

export function resolveImportShape (opts: ImportShapeOptions = {}): ResolvedImportShape {
  const profile = opts.profile ?? 'unixfs-v0-2015'
  if (!UNIXFS_PROFILES.includes(profile)) throw new InvalidArgumentError(`unknown profile "${String(profile)}" (use ${UNIXFS_PROFILES.join(' or ')})`)
  if (opts.cidVersion != null && opts.cidVersion !== 0 && opts.cidVersion !== 1) throw new InvalidArgumentError(`the CID version must be 0 or 1 (got ${String(opts.cidVersion)})`)
  const base: ResolvedImportShape = profile === 'unixfs-v1-2025'
    ? { cidVersion: 1, rawLeaves: true, chunkSize: 1_048_576, maxLinks: 1024, shardSplitStrategy: 'block-bytes' }
    : { cidVersion: 0, rawLeaves: false, chunkSize: 262_144, maxLinks: 174, shardSplitStrategy: 'links-bytes' }
  if (opts.cidVersion != null) {
    base.cidVersion = opts.cidVersion
    if (opts.cidVersion === 1) base.rawLeaves = true
  }
  if (opts.rawLeaves != null) base.rawLeaves = opts.rawLeaves
  if (opts.chunker != null) base.chunkSize = parseChunker(opts.chunker)
  return base
}

export function parseChunker (chunker: string): number {
  const m = /^size-(\d+)$/.exec(chunker.trim())
  if (m?.[1] == null) throw new InvalidArgumentError(`unsupported chunker "${chunker}": use size-N (N bytes per chunk)`)
  const n = Number.parseInt(m[1], 10)
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_CHUNK_SIZE) throw new InvalidArgumentError(`chunker size must be between 1 and ${MAX_CHUNK_SIZE} bytes (got ${m[1]})`)
  return n
}

/** The same shape as kubo RPC `add` parameters (also usable as CLI flags, see kuboAddFlags). */
export function kuboAddParams (shape: ResolvedImportShape): Record<string, string> {
  const params: Record<string, string> = {
    'cid-version': String(shape.cidVersion),
    'raw-leaves': String(shape.rawLeaves),
    chunker: `size-${shape.chunkSize}`
  }
  if (shape.maxLinks !== 174) params['max-file-links'] = String(shape.maxLinks)
  return params
}

/** `ipfs add` command-line flags giving the same CIDs as `shape`. */
export function kuboAddFlags (shape: ResolvedImportShape): string[] {
  return Object.entries(kuboAddParams(shape)).map(([k, v]) => `--${k}=${v}`)
}
