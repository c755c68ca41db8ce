/**
 * The one CID parser. Every CID a user, a config file or a registry entry
 * gives us is parsed here, so a typo gets the same `INVALID_CID` error and
 * message wherever it was typed.
 */
import { CID } from 'multiformats/cid'
import { InvalidCidError } from '../errors.ts'

/** Parses a CID (v0, or v1 in base32, base36 or base58btc); throws InvalidCidError naming the input. */
export function parseCid (input: string): CID {
  const text = input.trim()
  if (text === '') throw new InvalidCidError(input, 'it is empty')
  try {
    // multiformats reads CIDv0 and base32, base36 (subdomain gateways' `k51…`) and base58btc CIDv1.
    return CID.parse(text)
  } catch {
    // multiformats' own messages ("… multibase decoder must be provided", "Invalid CID version 80") mean nothing to a user.
    throw new InvalidCidError(input, /^Qm/.test(text) ? 'it looks like a CIDv0 but is damaged (a CIDv0 is 46 characters: Qm and 44 more)' : 'CIDs start with Qm… (46 characters) or bafy…, and contain no spaces or slashes')
  }
}

/** True when two CIDs name the same content (CIDv0 and CIDv1 spellings of one dag-pb hash). */
export function sameCid (a: string | CID, b: string | CID): boolean {
  return cidKey(a) === cidKey(b)
}

function cidKey (c: string | CID): string {
  if (typeof c !== 'string') return c.toV1().toString()
  try {
    return parseCid(c).toV1().toString()
  } catch {
    return c
  }
}
