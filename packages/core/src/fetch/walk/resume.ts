/**
 * The resume re-proof. A leaf the journal says is written is trusted only
 * after its bytes on disk prove against its CID again: a journal line can
 * outlive its data (power loss) or the partial file can be damaged. A leaf
 * that does not prove is simply fetched again.
 */
import { open } from 'node:fs/promises'
import type { CID } from 'multiformats/cid'
import type { PullJournal } from '../journal.ts'
import { leafBlockFromData } from '../../ipld/unixfs.ts'

/** The size of leaf `cid` at `offset` of file `rel` if it is on disk and proves, else undefined. */
export async function leafOnDisk (journal: PullJournal, path: string, rel: string, offset: number, cid: CID): Promise<number | undefined> {
  const size = journal.leafDone(rel, offset, cid)
  if (size === undefined) return undefined
  try {
    const data = Buffer.alloc(size)
    const fh = await open(path, 'r')
    try {
      let got = 0
      while (got < size) {
        const { bytesRead } = await fh.read(data, got, size - got, offset + got)
        if (bytesRead === 0) return undefined
        got += bytesRead
      }
    } finally {
      await fh.close()
    }
    return leafBlockFromData(cid, data) != null ? size : undefined
  } catch {
    return undefined
  }
}
