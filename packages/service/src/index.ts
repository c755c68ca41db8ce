/**
 * @packageDocumentation
 *
 * The citrate-ipfs local API service: the Citrate app's `ipfs_*` commands over a
 * loopback HTTP API secured by a per-install token, Host and Origin checks,
 * with live progress over Server-Sent Events and an OpenAPI description.
 *
 * ```ts
 * import { startService } from '@citrate-ipfs/service'
 * const svc = await startService({ port: 5050, uiDir })
 * console.log(svc.url, svc.tokenFile)
 * ```
 */
export { startService, type ServiceOptions, type RunningService } from './server.ts'
export { httpStatusFor, HTTP_STATUS, ServiceError, type ServiceAnswerCode } from './errors.ts'
export { COMMANDS } from './commands.ts'
export { openApiDocument } from './openapi.ts'
export { TAURI_ORIGINS, tokenPath, loadOrCreateToken, isAllowedHost } from './security.ts'
