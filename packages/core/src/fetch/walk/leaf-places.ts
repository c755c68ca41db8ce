/**
 * Where each leaf of this pull was written, so a leaf that appears again (the
 * same CID at another offset: zero-filled chunks of a model file, or every
 * leaf of a file repeated in a folder) is copied from there instead of
 * fetched again. A copy is re-proved against its CID as it is read back (one
 * SHA-256 pass, about 1 ms per MiB here), so a damaged or overwritten first
 * copy is never propagated: it is simply fetched.
 *
 * A leaf being read right now can be claimed, so a second task wanting it
 * waits for that read instead of asking a source for the same bytes. Only a
 * task about to read claims, and it settles every claim when its read ends
 * (recorded, or released undelivered), so a wait always ends.
 *
 * Memory bound: at most MAX_PLACES places are kept (about 160 bytes each:
 * the CID string, the entry, the map slot; ~21 MB at the cap, which covers a
 * 32 GiB file of 256 KiB leaves); past it new leaves are no longer recorded
 * (they are just not deduplicated).
 */
import { open } from 'node:fs/promises'
import type { CID } from 'multiformats/cid'
import { leafMatches } from '../../ipld/unixfs.ts'

export interface LeafPlace { path: string, offset: number, size: number }

const MAX_PLACES = 131_072

interface Claim { promise: Promise<LeafPlace | undefined>, settle: (p: LeafPlace | undefined) => void }

export class LeafPlaces {
  private readonly places = new Map<string, LeafPlace | Claim>()

  /** Where `cid` is (a place), a read to wait for (a promise), or nothing known. */
  lookup (cid: CID): LeafPlace | Promise<LeafPlace | undefined> | undefined {
    const v = this.places.get(cid.toString())
    if (v == null) return undefined
    return 'promise' in v ? v.promise : v
  }

  /** Claims `cid` for a read about to start; false when it is already known or claimed. */
  claim (cid: CID): boolean {
    const key = cid.toString()
    if (this.places.has(key) || this.places.size >= MAX_PLACES) return false
    let settle: (p: LeafPlace | undefined) => void = () => {}
    const promise = new Promise<LeafPlace | undefined>(resolve => { settle = resolve })
    this.places.set(key, { promise, settle })
    return true
  }

  /** `cid` is written at `place` (and logged): later wants copy from there; a waiting claim ends. */
  record (cid: CID, place: LeafPlace): void {
    if (place.size === 0) return
    const key = cid.toString()
    const v = this.places.get(key)
    if (v != null && !('promise' in v)) return
    if (v == null && this.places.size >= MAX_PLACES) return
    this.places.set(key, place)
    if (v != null) v.settle(place)
  }

  /** A claimed leaf the read did not deliver: waiters get undefined (and fetch it themselves). */
  release (cid: CID): void {
    const key = cid.toString()
    const v = this.places.get(key)
    if (v == null || !('promise' in v)) return
    this.places.delete(key)
    v.settle(undefined)
  }

  /** A recorded place whose bytes no longer prove: forgotten, so the leaf is fetched. */
  forget (cid: CID): void {
    const v = this.places.get(cid.toString())
    if (v != null && !('promise' in v)) this.places.delete(cid.toString())
  }

  /** The leaf's bytes read back from `place`, if they still prove against `cid`. */
  async read (cid: CID, place: LeafPlace): Promise<Uint8Array | undefined> {
    const data = Buffer.allocUnsafe(place.size)
    try {
      const fh = await open(place.path, 'r')
      try {
        let got = 0
        while (got < place.size) {
          const { bytesRead } = await fh.read(data, got, place.size - got, place.offset + got)
          if (bytesRead === 0) return this.lost(cid)
          got += bytesRead
        }
      } finally {
        await fh.close()
      }
    } catch {
      return this.lost(cid)
    }
    return leafMatches(cid, data) ? data : this.lost(cid)
  }

  private lost (cid: CID): undefined {
    this.forget(cid)
    return undefined
  }
}
