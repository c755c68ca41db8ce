/**
 * A content path resolved from the sources a pull will use: the folder nodes
 * on the way (and, in a HAMT folder, only the shards the name hashes to) are
 * fetched as single verified blocks (ipld/resolve-path.ts), so a pull of
 * `<cid>/a/b.gguf` then fetches only `b.gguf`.
 */
import type { CID } from 'multiformats/cid'
import type { SourceFailure } from '../errors.ts'
import { resolveContentPath, type ResolvedPath } from '../ipld/resolve-path.ts'
import { BlockFetcher } from './fetcher.ts'
import type { BlockSource } from './source.ts'

export interface ResolvePathOptions {
  sources: BlockSource[]
  signal: AbortSignal
  onSourceFailed?: (failure: SourceFailure & { dropped: boolean }) => void
}

export async function resolvePathFromSources (root: CID, segments: readonly string[], opts: ResolvePathOptions): Promise<ResolvedPath & { fetchedBytes: number }> {
  const fetcher = new BlockFetcher(opts.sources, { onSourceFailed: opts.onSourceFailed })
  try {
    const resolved = await resolveContentPath(root, segments, async (cid) => await fetcher.get(cid, opts.signal))
    return { ...resolved, fetchedBytes: fetcher.fetchedBytes }
  } finally {
    fetcher.close()
  }
}
