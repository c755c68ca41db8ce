/** The walk's units of work, one kind per file in tasks/, and the sizes that decide between them. */
import type { CID } from 'multiformats/cid'
import type { LeafSink } from '../leaf-sink.ts'

export type Task =
  /** A named node (the root, or a folder's entry): a file or a folder. */
  | { t: 'entry', cid: CID, path: string, rel: string }
  /** A node at an offset of a file; `file` is set inside a big file, whose leaves go out as byte-range runs. */
  | { t: 'part', cid: CID, path: string, rel: string, offset: number, size: number, file?: CID }
  /**
   * Contiguous likely leaves of the big file `file`, read as one plain byte
   * range and proved leaf by leaf; `avoid` a source (stolen work, best
   * elsewhere); `hedgeOf` a slow read whose leaves this one races (tail.ts).
   */
  | { t: 'leaves', file: CID, path: string, rel: string, leaves: Position[], attempt: number, avoid?: string, hedgeOf?: LeafSink }
  /** A HAMT shard of a sharded folder; `names` is shared by all its shards (duplicate check). */
  | { t: 'shard', cid: CID, path: string, rel: string, names: Set<string> }
  /** Positions of a file fetched as one CAR stream of the root's `entity-bytes` range [from, to). */
  | { t: 'range', root: CID, path: string, rel: string, from: number, to: number, positions: Position[], attempt: number }

export type TaskOf<K extends Task['t']> = Extract<Task, { t: K }>

/** A node expected at a byte offset of a file; `tsize` is its parent link's subtree-size hint. */
export interface Position { cid: CID, offset: number, size: number, tsize?: number }

/**
 * Files at least this large are fetched in byte ranges (fewer, larger requests):
 * plain byte ranges proved leaf by leaf from sources that serve them, else CAR ranges.
 */
export const CAR_MIN_FILE_BYTES = 4 * 1024 * 1024
/** Failed reads of one range before it moves on (byte range → CAR range → block by block). */
export const CAR_MAX_ATTEMPTS = 3
