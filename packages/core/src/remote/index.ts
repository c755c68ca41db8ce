/**
 * Remote pinning through the IPFS Pinning Service API (Pinata, Filebase, an
 * IPFS Cluster's pinsvc endpoint…): a client, and pin/ls/rm with status
 * following on top.
 *
 * @example
 * ```ts
 * const svc = await pinningServiceFromConfig(config.remotes, 'fleet', config.paths.home)
 * const pin = await remotePinAdd(svc, cid, { origins: await kuboOrigins(rpc), timeoutMs: 600_000 })
 * ```
 */
export { PinningServiceClient, pinningServiceFromConfig, REMOTE_PIN_STATUS_LIST, type ListPinsQuery, type PinningServiceClientOptions } from './client.ts'
export { remotePinAdd, remotePinList, remotePinRemove, kuboOrigins, connectToDelegates, type RemotePinAddOptions } from './pin.ts'
export type { RemotePinProgress, RemotePinStatus, RemotePinView, RemoteServiceView } from '@citrate-ipfs/contract'
