/**
 * Remote pinning: ask a Pinning Service API service to pin a CID, telling it
 * where to fetch from (our kubo's addresses as `origins`), then follow the
 * request (queued → pinning → pinned, or failed) until it settles or the
 * timeout passes. Only `pinned` is success: a failed request, a service that
 * errs, or one that does not settle in time is reported, never recorded.
 */
import { RemotePinFailedError, TimeoutError } from '../errors.ts'
import { sleep } from '../net/backoff.ts'
import type { KuboRpc } from '../daemon/rpc.ts'
import type { RemotePinProgress, RemotePinView } from '@citrate-ipfs/contract'
import type { PinningServiceClient } from './client.ts'

export interface RemotePinAddOptions {
  name?: string
  origins?: string[]
  /** How long to wait for `pinned`, ms. */
  timeoutMs: number
  /** Time between status reads, ms (default 1000). */
  pollMs?: number
  signal?: AbortSignal
  /**
   * Dials the service's `delegates` (multiaddrs it sent back), as the spec
   * asks of a client so the service can fetch at once; best effort.
   */
  connectDelegates?: (delegates: string[]) => Promise<void>
  /** One event per status change (the first one included). */
  onProgress?: (e: RemotePinProgress) => void
}

export async function remotePinAdd (service: PinningServiceClient, cid: string, opts: RemotePinAddOptions): Promise<RemotePinView> {
  const started = Date.now()
  let view = await service.add(cid, { name: opts.name, origins: opts.origins, signal: opts.signal })
  if (view.delegates.length > 0 && opts.connectDelegates != null) await opts.connectDelegates(view.delegates).catch(() => undefined)
  let last = ''
  for (;;) {
    if (view.status !== last) {
      last = view.status
      opts.onProgress?.({ service: service.name, cid, requestid: view.requestid, status: view.status })
    }
    if (view.status === 'pinned') return view
    if (view.status === 'failed') throw new RemotePinFailedError(service.name, cid, view.requestid, view.info?.reason ?? view.info?.error ?? '')
    if (Date.now() - started >= opts.timeoutMs) {
      throw new TimeoutError(`pinning ${cid} at ${service.name} (request ${view.requestid}, still ${view.status}; the service keeps the request)`, opts.timeoutMs)
    }
    await sleep(Math.min(opts.pollMs ?? 1000, Math.max(0, opts.timeoutMs - (Date.now() - started))), opts.signal)
    view = await service.get(view.requestid, opts.signal)
  }
}

/** The remote pins of `cid` (or all), every status. */
export async function remotePinList (service: PinningServiceClient, opts: { cid?: string, name?: string, signal?: AbortSignal } = {}): Promise<RemotePinView[]> {
  return (await service.list({ ...(opts.cid != null ? { cid: [opts.cid] } : {}), ...(opts.name != null ? { name: opts.name } : {}) }, opts.signal)).results
}

/** Removes every request for `cid` at the service; returns the request ids removed. */
export async function remotePinRemove (service: PinningServiceClient, cid: string, signal?: AbortSignal): Promise<string[]> {
  const removed: string[] = []
  for (const p of await remotePinList(service, { cid, signal })) {
    if (await service.remove(p.requestid, signal)) removed.push(p.requestid)
  }
  return removed
}

/** Connects our kubo to each delegate (`swarm/connect`, 10 s each); failures are left to the service to work around. */
export async function connectToDelegates (rpc: KuboRpc, delegates: string[]): Promise<void> {
  await Promise.all(delegates.map(async d => await rpc.json('swarm/connect', { arg: d }, { timeoutMs: 10_000 }).catch(() => undefined)))
}

/**
 * Our kubo's addresses a service can dial: `/api/v0/id`'s Addresses, each
 * ending in /p2p/<our id> (kubo lists them so); loopback ones are kept only
 * when `keepLoopback` (a service on this machine, as in tests).
 */
export async function kuboOrigins (rpc: KuboRpc, opts: { keepLoopback?: boolean, signal?: AbortSignal } = {}): Promise<string[]> {
  const id = await rpc.json<{ ID?: string, Addresses?: string[] | null }>('id', {}, { signal: opts.signal })
  const out: string[] = []
  for (const a of id.Addresses ?? []) {
    const loopback = /^\/ip4\/127\.|^\/ip6\/::1\//.test(a)
    if (loopback && opts.keepLoopback !== true) continue
    out.push(a.includes('/p2p/') || id.ID == null ? a : `${a}/p2p/${id.ID}`)
  }
  return out
}
