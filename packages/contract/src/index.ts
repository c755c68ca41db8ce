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
 * import { COMMAND_SCHEMAS, ERROR_CODES, formatBytes, type CommandResult, type ErrorCode } from '@citrate-ipfs/contract'
 * const known: ErrorCode = 'ALL_SOURCES_FAILED'
 * formatBytes(4_700_000_000) // '4.7 GB'
 * COMMAND_SCHEMAS.ipfs_check_status.result // the JSON Schema of IpfsStatus
 * const status: CommandResult<'ipfs_check_status'> = { state: 'Stopped', installed: true, running: false, connected: false }
 * ```
 */
export * from './status.ts'
export * from './install.ts'
export * from './model.ts'
export * from './download.ts'
export * from './pins.ts'
export * from './node.ts'
export * from './publish.ts'
export * from './commands.ts'
export * from './events.ts'
export * from './error-body.ts'
export * from './errors.ts'
export * from './format.ts'
