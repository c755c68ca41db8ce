/**
 * Block verification: every byte we accept from a source must hash to the
 * multihash inside its CID. sha2 runs on node:crypto (SHA-NI, ~1.7 GB/s);
 * the other functions kubo's `ipfs add --hash` offers run on @noble/hashes.
 * Anything else is refused with UnsupportedContentError, never accepted unchecked.
 * Pull checks each block as it arrives and `models verify` re-checks the same
 * way at rest, so whatever can be pulled can be re-verified.
 */
import { createHash } from 'node:crypto'
import { blake2b, blake2s } from '@noble/hashes/blake2.js'
import { blake3 } from '@noble/hashes/blake3.js'
import { keccak_224, keccak_256, keccak_384, keccak_512, sha3_224, sha3_256, sha3_384, sha3_512 } from '@noble/hashes/sha3.js'
import type { CID } from 'multiformats/cid'
import { BlockVerificationError, UnsupportedContentError } from '../errors.ts'

/** The trustless-gateway spec's cap; kubo never makes a larger block. */
export const MAX_BLOCK_BYTES = 2 * 1024 * 1024

export const CODEC_RAW = 0x55
export const CODEC_DAG_PB = 0x70
const IDENTITY = 0x00

type Digester = (bytes: Uint8Array, length: number) => Uint8Array

const node = (alg: string): Digester => (bytes) => createHash(alg).update(bytes).digest()
const noble = (fn: (b: Uint8Array) => Uint8Array): Digester => (bytes) => fn(bytes)

const DIGESTERS = new Map<number, Digester>([
  [0x11, node('sha1')],
  [0x12, node('sha256')],
  [0x13, node('sha512')],
  [0x14, noble(sha3_512)],
  [0x15, noble(sha3_384)],
  [0x16, noble(sha3_256)],
  [0x17, noble(sha3_224)],
  [0x19, (bytes, length) => createHash('shake256', { outputLength: length }).update(bytes).digest()],
  [0x1a, noble(keccak_224)],
  [0x1b, noble(keccak_256)],
  [0x1c, noble(keccak_384)],
  [0x1d, noble(keccak_512)],
  [0x1e, (bytes, length) => blake3(bytes, { dkLen: length })],
  [0x56, (bytes) => createHash('sha256').update(createHash('sha256').update(bytes).digest()).digest()]
])

function digesterFor (code: number): Digester | undefined {
  const known = DIGESTERS.get(code)
  if (known != null) return known
  // blake2b-8 … blake2b-512 are 0xb201 … 0xb240, blake2s-8 … blake2s-256 are 0xb241 … 0xb260.
  if (code >= 0xb201 && code <= 0xb240) { const dkLen = code - 0xb200; return (bytes) => blake2b(bytes, { dkLen }) }
  if (code >= 0xb241 && code <= 0xb260) { const dkLen = code - 0xb240; return (bytes) => blake2s(bytes, { dkLen }) }
  return undefined
}

/** Throws UnsupportedContentError early (before any fetch) for a CID we could not verify or decode. */
export function assertSupportedCid (cid: CID): void {
  if (cid.code !== CODEC_RAW && cid.code !== CODEC_DAG_PB) {
    throw new UnsupportedContentError(`codec 0x${cid.code.toString(16)} in ${cid.toString()} (only dag-pb UnixFS and raw blocks are downloadable)`)
  }
  if (cid.multihash.code !== IDENTITY && digesterFor(cid.multihash.code) == null) {
    throw new UnsupportedContentError(`hash function 0x${cid.multihash.code.toString(16)} in ${cid.toString()}`)
  }
  if (cid.multihash.code !== IDENTITY && cid.multihash.size < 16) throw new UnsupportedContentError(`a ${cid.multihash.size}-byte digest in ${cid.toString()}`)
}

/** True for an identity CID, whose block is its own digest and is never fetched. */
export function isIdentity (cid: CID): boolean {
  return cid.multihash.code === IDENTITY
}

/** Checks `bytes` against `cid`; throws BlockVerificationError on any mismatch. */
export function verifyBlock (cid: CID, bytes: Uint8Array): void {
  if (bytes.byteLength > MAX_BLOCK_BYTES) {
    throw new BlockVerificationError(cid.toString(), `at most ${MAX_BLOCK_BYTES} bytes`, `${bytes.byteLength} bytes`)
  }
  const actual = digestOf(cid, bytes)
  if (sameBytes(actual, cid.multihash.digest)) return
  if (isIdentity(cid)) throw new BlockVerificationError(cid.toString(), 'the identity digest', 'other bytes')
  throw new BlockVerificationError(cid.toString(), hex(cid.multihash.digest), hex(actual))
}

/**
 * The digest of `bytes` under the CID's hash function, truncated to the CID's
 * digest length. A hash function we cannot compute throws UnsupportedContentError,
 * never a mismatch: "could not check" must not read as "does not match".
 */
function digestOf (cid: CID, bytes: Uint8Array): Uint8Array {
  const mh = cid.multihash
  if (mh.code === IDENTITY) return bytes
  const digester = digesterFor(mh.code)
  if (digester == null) throw new UnsupportedContentError(`hash function 0x${mh.code.toString(16)} in ${cid.toString()}`)
  // A truncated digest shorter than 16 bytes would be too weak to mean anything.
  if (mh.size < 16) throw new UnsupportedContentError(`a ${mh.size}-byte digest in ${cid.toString()}`)
  return digester(bytes, mh.size).subarray(0, mh.size)
}

function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b)
}

function hex (b: Uint8Array): string {
  const h = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
  return h.length > 16 ? `${h.slice(0, 16)}…` : h
}
