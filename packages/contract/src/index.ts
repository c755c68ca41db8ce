/**
 * @packageDocumentation
 *
 * The wire contract of citrate-ipfs: each shape that crosses the service
 * boundary is written here once, as a TypeBox schema. The service validates
 * with these schemas and publishes them in its OpenAPI document; the client,
 * the UI and the core take their TypeScript types from them (`Static<…>`).
 * Browser-safe: no Node APIs.
 *
 * @example
 * ```ts
 * import { ERROR_CODES, formatBytes, type ErrorCode } from '@citrate-ipfs/contract'
 * const known: ErrorCode = 'ALL_SOURCES_FAILED'
 * formatBytes(4_700_000_000) // '4.7 GB'
 * ```
 */
export * from './errors.ts'
export * from './format.ts'
