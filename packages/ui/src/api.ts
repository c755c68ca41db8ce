/** The UI's link to the service: the typed client and a live event subscription. */
import { useEffect, useRef } from 'react'
import { CommandError, defaultClientFromPage, type ServiceEvent } from '@citrate-ipfs/client'
import { isWireErrorCode, type WireErrorCode } from '@citrate-ipfs/contract'

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

type Explanation = [title: string, hint: string]

/**
 * What each code means to someone who is not an IPFS expert, and what to do
 * next in this app (a button or a page, never a command line). A `Record` over
 * every code a client can see, so a new code without an explanation fails the
 * type-check instead of showing "Something went wrong".
 */
const EXPLANATIONS: Record<WireErrorCode, Explanation> = {
  // Installing and running IPFS
  KUBO_NOT_INSTALLED: ['IPFS is not installed yet.', 'Click "Install IPFS" on the Setup page to download and verify it.'],
  KUBO_TOO_OLD: ['The installed IPFS (kubo) is too old.', 'Click "Install IPFS" on the Setup page to get the supported version.'],
  KUBO_BINARY_UNUSABLE: ['The IPFS program on this computer does not work.', 'Click "Install IPFS" on the Setup page to replace it with a verified copy.'],
  INSTALL_CHECKSUM_MISMATCH: ['The IPFS download was corrupted, so nothing was installed.', 'Try again; if it keeps failing, check your network or the download mirror.'],
  INSTALL_DOWNLOAD_FAILED: ['IPFS could not be downloaded.', 'Check your internet connection (or the dist_url setting) and try again.'],
  INSTALL_ARCHIVE_INVALID: ['The IPFS download was not a valid release, so nothing was installed.', 'Try again later, or install kubo yourself and set daemon_path in citrate.toml.'],
  UNSUPPORTED_PLATFORM: ['There is no IPFS release for this kind of computer.', 'Install kubo yourself and set daemon_path in citrate.toml.'],
  DAEMON_PORT_IN_USE: ['Another program is using a port IPFS needs.', 'Close that program, or change api_port / gateway_port in citrate.toml to the free port named above.'],
  REPO_LOCKED: ['Another IPFS process is using your IPFS folder.', 'Stop the other IPFS process, then click "Start IPFS" again.'],
  KUBO_REPO_CONFIG_INVALID: ["IPFS's own settings file is damaged.", 'Fix the file named above, or move your IPFS folder aside so a fresh one is made, then click "Start IPFS".'],
  DAEMON_START_FAILED: ['IPFS could not start.', 'See the log lines below; fixing the config or clicking "Start IPFS" again usually helps.'],
  DAEMON_START_TIMEOUT: ['IPFS took too long to start.', 'Click "Start IPFS" again; a first start after an upgrade can take longer.'],
  DAEMON_STOP_FAILED: ['IPFS could not be stopped.', 'Click "Stop IPFS" again; if it stays running, restart your computer.'],
  DAEMON_NOT_RUNNING: ['IPFS is not running.', 'Click "Start IPFS" on the Setup page.'],
  DAEMON_DIED: ['IPFS stopped unexpectedly.', 'See the log lines below, then click "Start IPFS again" on the Setup page.'],
  DAEMON_DISABLED: ['The local IPFS daemon is turned off in settings.', 'Set daemon_enabled = true in citrate.toml, then reload this page.'],
  KUBO_RPC_ERROR: ['IPFS refused or failed a request.', 'Try again; if it keeps failing, click "Stop IPFS" and "Start IPFS" on the Setup page.'],
  // Downloading by CID
  INVALID_CID: ['That is not a valid CID.', 'Paste the whole CID (it starts with Qm… or bafy…).'],
  PATH_NOT_FOUND: ['That path does not exist inside this content.', 'Check the folder and file names after the CID.'],
  BLOCK_MISMATCH: ['A gateway sent data that does not match the CID.', 'Nothing wrong was saved. The download continues from other sources; if none is left, try again later.'],
  SOURCE_FAILED: ['A source could not deliver part of this content.', 'The download continues from other sources; if none is left, try again later.'],
  ALL_SOURCES_FAILED: ['No source could provide this content.', 'Start IPFS on the Setup page, or set an external gateway there, then download again. Verified parts are kept.'],
  SIZE_LIMIT_EXCEEDED: ['This content is larger than the allowed model size.', 'Raise max_model_size_gb in citrate.toml if you trust it.'],
  TARGET_EXISTS: ['A model with that name already exists.', 'Type another name, or click "Remove" on the existing model first.'],
  TOO_MANY_PULLS: ['Too many downloads are running.', 'Wait for one to finish, then click "Download" again.'],
  UNSUPPORTED: ['This content uses a format Citrate cannot download safely.', 'Ask the publisher for a standard UnixFS CID.'],
  INVALID_DAG: ['This content is malformed, so it was refused.', 'Nothing was saved. Ask the publisher to check what they shared.'],
  UNSAFE_NAME: ['This content contains an unsafe file name, so it was refused.', 'Nothing was saved. Ask the publisher to fix the names.'],
  ABORTED: ['The operation was cancelled.', 'Start it again when you are ready.'],
  TIMEOUT: ['That took too long.', 'Try again; a slow network or a busy computer can cause this.'],
  // Your library: models, verification, pins
  MODEL_NOT_FOUND: ['That model is not in your library.', 'Reload the Models page to see the current list.'],
  CONTENT_NOT_FOUND: ['No source has this content, or the path inside it names nothing.', 'Check the CID and path; start IPFS or set a gateway that has it on the Setup page.'],
  OBJECT_TOO_LARGE: ['This content is larger than the limit for reading it directly.', 'Download it on the Models page instead.'],
  INVALID_MODEL_ID: ['That name cannot be used for a model.', 'Type a name of letters, digits and . _ + - that starts with a letter or digit.'],
  CONTENT_CORRUPT: ['The stored model no longer matches its CID.', 'Click "Remove" on the model, then download it again.'],
  CONTENT_MISMATCH: ['The stored model could not be proven to match its CID.', 'If it was published with unusual options this is expected; otherwise click "Remove" and download it again.'],
  DAG_INDEX_CORRUPT: ["The model's verification record is damaged.", 'Click "Remove" on the model, then download it again to rebuild the record.'],
  DAG_INDEX_MISSING: ['This model has no verification record.', 'Click "Remove" on the model, then download it again to record one.'],
  VERIFY_UNSUPPORTED: ['This model cannot be checked.', 'Its content uses a format the checker does not know; it was not changed.'],
  CID_MISMATCH: ['IPFS stored something different from what was expected.', 'Nothing was registered. Try again; if it repeats, your IPFS version may use other settings.'],
  NOT_PINNED: ['That content is not pinned (or only as part of another pin).', 'Reload the page to see the current pins.'],
  PIN_IN_USE: ['A model in your library relies on this pin.', 'Click "Remove" on the model first, or click "Unpin anyway".'],
  PIN_TIMEOUT: ['Pinning took longer than allowed.', 'Try again, or raise pin_timeout_seconds in citrate.toml.'],
  REGISTRY_CORRUPT: ['Your model library file is damaged.', 'A copy was kept. Fix or remove the file named above, then reload this page.'],
  REGISTRY_VERSION_UNSUPPORTED: ['Your model library was written by a newer Citrate.', 'Update Citrate to open it.'],
  REGISTRY_LOCKED: ['Your model library is busy in another window or program.', 'Wait a moment and try again.'],
  // This computer
  CONFIG_INVALID: ['A setting in citrate.toml is not valid.', 'Fix the setting named above, then reload this page.'],
  INVALID_ARGUMENT: ['That input is not valid.', 'Check the value and try again.'],
  DISK_FULL: ['The disk is full.', 'Free some space and try again.'],
  PERMISSION_DENIED: ['Citrate is not allowed to read or write a file it needs.', 'Check the permissions of the folder named above, then try again.'],
  INTERNAL: ['Something went wrong.', 'Try again; if it persists, check the IPFS log on the Setup page.'],
  // Talking to the service
  SERVICE_UNREACHABLE: ['The Citrate IPFS service is not running.', 'Restart the app.'],
  EVENTS_UNAVAILABLE: ['Live progress is not available right now.', 'Reload the page.'],
  BAD_RESPONSE: ['The service gave an answer this page does not understand.', 'Reload the page; if it persists, restart the app.'],
  HTTP_ERROR: ['The service could not answer.', 'Reload the page; if it persists, restart the app.'],
  UNAUTHORIZED: ['This page is not signed in to the service.', 'Open the sign-in link the service printed when it started (each link works once, for two minutes); `citrate-ipfs login` prints a new one.'],
  FORBIDDEN_HOST: ['This page was opened from an address the service does not accept.', 'Open the app from its own address (127.0.0.1).'],
  FORBIDDEN_ORIGIN: ['This page is not allowed to use the service.', 'Open the app from its own address (127.0.0.1).'],
  NOT_FOUND: ['That item no longer exists.', 'Reload the page to see the current state.'],
  UNKNOWN_COMMAND: ['This page asked for something the service does not offer.', 'Update the app so the page and the service match.'],
  METHOD_NOT_ALLOWED: ['This page asked the service in a way it does not accept.', 'Update the app so the page and the service match.'],
  INVALID_JSON: ['This page sent the service a request it could not read.', 'Reload the page and try again.'],
  BAD_REQUEST: ['This page sent the service a request it could not read.', 'Reload the page and try again.'],
  BODY_TOO_LARGE: ['That request is too large.', 'Use a shorter value and try again.'],
  NO_UI: ['The service was started without this page.', 'Restart the app.']
}

/** A plain-language explanation and the next step, by error code. */
export function explain (err: unknown): { title: string, hint: string, detail: string } {
  const raw = err instanceof CommandError ? err.code : (err as { code?: unknown } | null)?.code
  const code: WireErrorCode = isWireErrorCode(raw) ? raw : 'INTERNAL'
  const detail = err instanceof Error ? err.message : String(err)
  const [title, hint] = EXPLANATIONS[code]
  return { title, hint, detail }
}
