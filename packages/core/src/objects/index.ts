/**
 * Small objects by CID, for assets and contract off-chain data: `getObject`
 * reads a UnixFS file, a raw block or a dag-cbor / dag-json node by
 * `<cid>[/path]`, verified block by block, from injected sources and under a
 * size cap; `putObject` stores bytes under the CID kubo gives them (`block
 * put`, `dag put`, `add`), in the running daemon or a CAR file.
 *
 * @example
 * ```ts
 * import { getObject, putObject, resolveSources, loadConfig, DaemonManager } from '@citrate-ipfs/core'
 *
 * const config = await loadConfig()
 * const { sources, daemonRpc } = await resolveSources({ config })
 * const put = await putObject(new TextEncoder().encode('{"name":"asset"}'), { codec: 'dag-cbor', rpc: daemonRpc })
 * const got = await getObject(`${put.cid}/name`, { sources, maxBytes: 1 << 20 })
 * console.log(new TextDecoder().decode(got.content)) // "asset"
 * ```
 */
export { getObject, DEFAULT_GET_MAX_BYTES, DEFAULT_GET_TIMEOUT_MS, type GetObjectOptions, type GetObjectResult } from './get.ts'
export { putObject, DEFAULT_PUT_MAX_BYTES, type PutObjectOptions, type PutObjectResult } from './put.ts'
export { VerifiedSourceBlockstore, type VerifiedBlockstoreOptions } from './blockstore.ts'
