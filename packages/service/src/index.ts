/**
 * @packageDocumentation
 *
 * The citrate-ipfs local API service: the Citrate app's `ipfs_*` commands over a
 * loopback HTTP API secured by a per-install token (or, for the served UI, a
 * session cookie from a one-time login URL), Host and Origin checks, with live
 * progress over Server-Sent Events and an OpenAPI description.
 *
 * ```ts
 * import { startService } from '@citrate-ipfs/service'
 * const svc = await startService({ port: 5050, uiDir })
 * console.log(svc.url, svc.tokenFile, svc.newLoginUrl())   // the login URL works once, for 2 minutes
 * ```
 */
export { startService, type ServiceOptions, type RunningService } from './server.ts'
export { httpStatusFor, HTTP_STATUS, ServiceError, type ServiceAnswerCode } from './errors.ts'
export { COMMANDS } from './commands.ts'
export { openApiDocument } from './openapi.ts'
export { uiFromDir, uiFromSea, SEA_UI_PREFIX, type UiFiles } from './ui-files.ts'
export { TAURI_ORIGINS, tokenPath, loadOrCreateToken, isAllowedHost, LOGIN_CODES_PATH, DEFAULT_LOGIN_CODE_TTL_MS, type LoginUrl } from './security.ts'
