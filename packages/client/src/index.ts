/**
 * @packageDocumentation
 *
 * Talk to the citrate-ipfs service the way the Citrate app talks to Tauri:
 *
 * ```ts
 * // before: import { invoke } from '@tauri-apps/api/core'
 * import { invoke } from '@citrate-ipfs/client'
 * const status = await invoke('ipfs_check_status')   // { connected, peerId, installed, running, … }
 * ```
 *
 * In a page served by `citrate-ipfs serve` (opened through its login URL),
 * `invoke` talks to its own origin and the session cookie signs it in. Elsewhere (a Tauri webview, Node), build a client:
 * `createClient({ baseUrl, token }).invoke(...)`.
 */
import { createClient, type CitrateClient } from './client.ts'
import type { CommandArgs, CommandName, CommandResult } from './commands.ts'

export * from './commands.ts'
export { createClient, parseFrame, CommandError, type CitrateClient, type ClientOptions } from './client.ts'

let defaultClient: CitrateClient | undefined

/** Configures the client `invoke` uses (for a Tauri webview: the sidecar's URL and token). */
export function configure (opts: { baseUrl: string, token: string }): CitrateClient {
  defaultClient = createClient(opts)
  return defaultClient
}

/**
 * The page-served default: the page's own origin, no token (the page never
 * sees one): the browser sends the HttpOnly session cookie with every
 * same-origin request.
 */
export function defaultClientFromPage (): CitrateClient {
  if (defaultClient != null) return defaultClient
  const location = (globalThis as { location?: Location }).location
  const origin = location?.origin
  // A Tauri webview's own origin is not the service: the app configures the sidecar's URL and token.
  if (origin == null || !/^https?:/.test(origin) || location?.hostname === 'tauri.localhost') {
    throw new Error('citrate-ipfs client is not configured: call configure({ baseUrl, token }) first')
  }
  defaultClient = createClient({ baseUrl: origin })
  return defaultClient
}

/** Drop-in for Tauri's `invoke(command, args)` with the seed's command names. */
export function invoke<C extends CommandName> (command: C, args?: CommandArgs<C>): Promise<CommandResult<C>> {
  return defaultClientFromPage().invoke(command, args)
}
