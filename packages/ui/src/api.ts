/** The UI's link to the service: the typed client and a live event subscription. */
import { useEffect, useRef } from 'react'
import { CommandError, defaultClientFromPage, type ServiceEvent } from '@citrate-ipfs/client'

export const client = (): ReturnType<typeof defaultClientFromPage> => defaultClientFromPage()

/** Calls `onEvent` for every service event while the component is mounted; reconnects after drops. */
export function useServiceEvents (onEvent: (e: ServiceEvent) => void): void {
  const handler = useRef(onEvent)
  handler.current = onEvent
  useEffect(() => {
    const ac = new AbortController()
    const loop = async (): Promise<void> => {
      while (!ac.signal.aborted) {
        try {
          await client().listen(e => handler.current(e), { signal: ac.signal })
        } catch { /* reconnect below */ }
        await new Promise(r => setTimeout(r, 1000))
      }
    }
    void loop()
    return () => ac.abort()
  }, [])
}

/** A plain-language explanation and the next step, by error code. */
export function explain (err: unknown): { title: string, hint: string, detail: string } {
  const raw = (err as { code?: unknown } | null)?.code
  const code = err instanceof CommandError ? err.code : typeof raw === 'string' ? raw : 'INTERNAL'
  const detail = err instanceof Error ? err.message : String(err)
  const known: Record<string, [string, string]> = {
    KUBO_NOT_INSTALLED: ['IPFS is not installed yet.', 'Click "Install IPFS" to download and verify it.'],
    KUBO_TOO_OLD: ['The installed IPFS (kubo) is too old.', 'Click "Install IPFS" to get the supported version.'],
    INSTALL_CHECKSUM_MISMATCH: ['The IPFS download was corrupted, so nothing was installed.', 'Try again; if it keeps failing, check your network or the download mirror.'],
    INSTALL_DOWNLOAD_FAILED: ['IPFS could not be downloaded.', 'Check your internet connection (or the dist_url setting) and try again.'],
    INSTALL_ARCHIVE_INVALID: ['The IPFS download was not a valid release, so nothing was installed.', 'Try again later or install kubo yourself and set daemon_path.'],
    DAEMON_PORT_IN_USE: ['Another program is using a port IPFS needs.', 'Close that program, or change api_port / gateway_port in citrate.toml to the free port named above.'],
    REPO_LOCKED: ['Another IPFS process is using your IPFS folder.', 'Stop the other IPFS process, then start again.'],
    DAEMON_START_FAILED: ['IPFS could not start.', 'See the log lines below; fixing the config or restarting usually helps.'],
    DAEMON_START_TIMEOUT: ['IPFS took too long to start.', 'Try again; a first start after an upgrade can take longer.'],
    DAEMON_NOT_RUNNING: ['IPFS is not running.', 'Start IPFS on the Setup page.'],
    DAEMON_DISABLED: ['The local IPFS daemon is turned off in settings.', 'Set daemon_enabled = true in citrate.toml.'],
    INVALID_ARGUMENT: ['That input is not valid.', 'Check the value and try again.'],
    DISK_FULL: ['The disk is full.', 'Free some space and try again.'],
    SERVICE_UNREACHABLE: ['The Citrate IPFS service is not running.', 'Restart the app (or run citrate-ipfs serve).'],
    UNAUTHORIZED: ['This page is not authorized to talk to the service.', 'Reload the page from the service address.'],
    INVALID_CID: ['That is not a valid CID.', 'Paste the whole CID (it starts with Qm… or bafy…).'],
    BLOCK_MISMATCH: ['A gateway sent data that does not match the CID.', 'Nothing wrong was saved. The download continues from other sources; if none is left, try again later.'],
    ALL_SOURCES_FAILED: ['No source could provide this content.', 'Start IPFS on the Setup page, or set an external gateway, then try again. Verified parts are kept.'],
    SIZE_LIMIT_EXCEEDED: ['This content is larger than the allowed model size.', 'Raise max_model_size_gb in citrate.toml if you trust it.'],
    TARGET_EXISTS: ['A model with that name already exists.', 'Choose another name, or remove the existing model first.'],
    TOO_MANY_PULLS: ['Too many downloads are running.', 'Wait for one to finish, then try again.'],
    UNSUPPORTED: ['This content uses a format Citrate cannot download safely.', 'Ask the publisher for a standard UnixFS CID.'],
    UNSAFE_NAME: ['This content contains an unsafe file name, so it was refused.', 'Nothing was saved. Ask the publisher to fix the names.'],
    CONTENT_CORRUPT: ['The stored model no longer matches its CID.', 'Remove it and download it again.'],
    PIN_IN_USE: ['A model in your library relies on this pin.', 'Remove the model first, or unpin anyway.'],
    PIN_TIMEOUT: ['Pinning took longer than allowed.', 'Try again, or raise pin_timeout_seconds in citrate.toml.'],
    MODEL_NOT_FOUND: ['That model is not in your library.', 'Refresh the list.'],
    ABORTED: ['The operation was cancelled.', 'Start it again when you are ready.']
  }
  const [title, hint] = known[code] ?? ['Something went wrong.', 'Try again; if it persists, check the IPFS log.']
  return { title, hint, detail }
}

export function formatBytes (n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let i = 0
  let v = n
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++ }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i] ?? 'B'}`
}
