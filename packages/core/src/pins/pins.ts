/**
 * Pins in the local kubo, seen through the model registry: a pin is a name
 * that protects content from kubo's garbage collector, and the registry says
 * which models rely on which pins.
 */
import { AbortedError, InvalidArgumentError, KuboRpcError, NotPinnedError, PinInUseError, PinTimeoutError, TimeoutError } from '../errors.ts'
import type { KuboRpc } from '../daemon/rpc.ts'
import { parseCid as parseAnyCid, sameCid } from '../ipld/cid.ts'

/** Pin progress: `progress` events are best effort (kubo sends them about twice a second); `done` is guaranteed. */
export type PinProgressEvent =
  | { type: 'citrate:pin:progress', blocks: number, bytes: number | undefined }
  | { type: 'citrate:pin:done', cid: string, alreadyPinned: boolean }

/**
 * What pins need to know of a registry model: its id and the content it
 * relies on. Structural, so pins stay below the registry (any ModelEntry fits).
 */
export interface ModelRef { id: string, cid: string }

export interface PinAddOptions {
  /** pin_timeout_seconds: the whole pin, fetching included, must finish within this. */
  timeoutSeconds: number
  /** Name stored with the pin (e.g. the registry id). */
  name?: string
  signal?: AbortSignal
  onProgress?: (event: PinProgressEvent) => void
}

export interface PinAddResult {
  cid: string
  alreadyPinned: boolean
  blocks: number
  bytes: number | undefined
}

/**
 * Pins `cid` recursively, fetching what is missing. On timeout or abort the
 * request is cancelled and any pin it may have completed meanwhile is
 * removed, so a failed pin leaves nothing behind. A pin that already existed
 * is never touched.
 */
export async function pinAdd (rpc: KuboRpc, cidText: string, opts: PinAddOptions): Promise<PinAddResult> {
  const cid = parseCid(cidText)
  if (opts.name != null) checkPinName(opts.name)
  if (!(opts.timeoutSeconds > 0)) throw new InvalidArgumentError(`pin timeout must be positive (got ${opts.timeoutSeconds})`)
  if (await isPinnedRecursively(rpc, cid, opts.signal)) {
    opts.onProgress?.({ type: 'citrate:pin:done', cid, alreadyPinned: true })
    return { cid, alreadyPinned: true, blocks: 0, bytes: undefined }
  }
  const timeoutMs = Math.round(opts.timeoutSeconds * 1000)
  let blocks = 0
  let bytes: number | undefined
  try {
    for await (const line of rpc.ndjson<{ Progress?: number, Bytes?: number, Pins?: string[] }>('pin/add', {
      arg: cid, recursive: true, progress: true, name: opts.name
    }, { timeoutMs, signal: opts.signal })) {
      if (line.Progress != null) {
        blocks = line.Progress
        bytes = line.Bytes ?? bytes
        opts.onProgress?.({ type: 'citrate:pin:progress', blocks, bytes })
      }
    }
  } catch (err) {
    // An abort while the answer streams arrives as a bare DOMException.
    const name = (err as Error)?.name
    const aborted = err instanceof AbortedError || opts.signal?.aborted === true
    const timedOut = !aborted && (err instanceof TimeoutError || name === 'TimeoutError' || name === 'AbortError')
    if (aborted || timedOut) {
      // The cancel may race with kubo finishing: take back whatever it pinned.
      await rpc.json('pin/rm', { arg: cid }, { timeoutMs: 30_000 }).catch(() => {})
      if (timedOut) throw new PinTimeoutError(cid, opts.timeoutSeconds)
      throw new AbortedError(`pin ${cid}`)
    }
    throw err
  }
  opts.onProgress?.({ type: 'citrate:pin:done', cid, alreadyPinned: false })
  return { cid, alreadyPinned: false, blocks, bytes }
}

export interface PinRmOptions {
  /** Registry entries; unpinning content one of them uses needs `force`. */
  models: ModelRef[]
  force?: boolean
  signal?: AbortSignal
}

/** Removes a recursive pin. Refuses (PinInUseError) when registry models rely on it, unless forced. */
export async function pinRm (rpc: KuboRpc, cidText: string, opts: PinRmOptions): Promise<{ cid: string, models: string[] }> {
  const cid = parseCid(cidText)
  const users = modelsBackedBy(cid, opts.models).map(m => m.id)
  if (users.length > 0 && opts.force !== true) throw new PinInUseError(cid, users)
  try {
    await rpc.json('pin/rm', { arg: cid }, { timeoutMs: 60_000, signal: opts.signal })
  } catch (err) {
    // kubo's answer for a CID without a recursive pin: the caller's mistake, not kubo failing.
    if (err instanceof KuboRpcError && /not pinned/i.test(err.message)) throw new NotPinnedError(cid, { cause: err })
    throw err
  }
  return { cid, models: users }
}

export interface PinListEntry {
  cid: string
  type: string
  /** Name stored with the pin, if any. */
  name: string | undefined
  /** Registry ids whose content this pin protects. */
  models: string[]
}

/** Streams the pins (recursive by default) as kubo lists them, one at a time. */
export async function * pinList (rpc: KuboRpc, opts: { models: ModelRef[], type?: 'recursive' | 'direct' | 'indirect' | 'all', signal?: AbortSignal }): AsyncGenerator<PinListEntry> {
  for await (const line of rpc.ndjson<{ Cid: string, Type: string, Name?: string }>('pin/ls', {
    stream: true, type: opts.type ?? 'recursive', names: true
  }, { timeoutMs: 10 * 60_000, signal: opts.signal })) {
    yield { cid: line.Cid, type: line.Type, name: line.Name != null && line.Name !== '' ? line.Name : undefined, models: modelsBackedBy(line.Cid, opts.models).map(m => m.id) }
  }
}

/** Registry entries whose root CID is `cid` (CIDv0 and CIDv1 spellings of one hash match). */
export function modelsBackedBy<M extends ModelRef> (cid: string, models: M[]): M[] {
  return models.filter(m => sameCid(m.cid, cid))
}

async function isPinnedRecursively (rpc: KuboRpc, cid: string, signal?: AbortSignal): Promise<boolean> {
  try {
    const res = await rpc.json<{ Keys?: Record<string, { Type: string }> }>('pin/ls', { arg: cid, type: 'recursive' }, { signal })
    return Object.keys(res?.Keys ?? {}).length > 0
  } catch (err) {
    if (err instanceof KuboRpcError && /not pinned/i.test(err.message)) return false
    throw err
  }
}

/** A pin name is shown in lists and logs: no control characters, and text kubo can store as UTF-8. */
export function checkPinName (name: string): string {
  // eslint-disable-next-line no-control-regex
  const bad = /[\u0000-\u001f\u007f]|[\uD800-\uDFFF]/u.exec(name)
  if (bad != null) {
    const code = `U+${(bad[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`
    const what = bad[0] >= '\uD800' ? `a lone surrogate (${code}, not well-formed Unicode)` : `a control character (${code})`
    throw new InvalidArgumentError(`pin name ${JSON.stringify(name)} contains ${what} at position ${bad.index + 1}`)
  }
  return name
}

function parseCid (text: string): string {
  return parseAnyCid(text).toString()
}
