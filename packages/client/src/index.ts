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
 * In a page served by `citrate-ipfs serve`, `invoke` finds the service and its
 * token by itself. Elsewhere (a Tauri webview, Node), build a client:
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

/** The page-served default: same origin, token from `<meta name="citrate-token">`. */
export function defaultClientFromPage (): CitrateClient {
  if (defaultClient != null) return defaultClient
  const doc = (globalThis as { document?: Document }).document
  const token = doc?.querySelector('meta[name="citrate-token"]')?.getAttribute('content')
  const origin = (globalThis as { location?: Location }).location?.origin
  if (token == null || origin == null) {
    throw new Error('citrate-ipfs client is not configured: call configure({ baseUrl, token }) first')
  }
  defaultClient = createClient({ baseUrl: origin, token })
  return defaultClient
}

/** Drop-in for Tauri's `invoke(command, args)` with the seed's command names. */
export function invoke<C extends CommandName> (command: C, args?: CommandArgs<C>): Promise<CommandResult<C>> {
  return defaultClientFromPage().invoke(command, args)
}
