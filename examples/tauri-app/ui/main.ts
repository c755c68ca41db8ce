/**
 * The example's page: asks the Rust side for the sidecar's URL and token, then uses
 * @citrate-ipfs/client exactly as the Citrate front end uses Tauri's invoke — the
 * commands keep their names, only the import changes. It starts the IPFS node when
 * the app opens (the sidecar stops it when the app quits).
 */
import { CommandError, configure, invoke } from '@citrate-ipfs/client'

/** Tauri's own invoke, from `withGlobalTauri` (an app with a bundler imports it from '@tauri-apps/api/core'). */
interface TauriGlobal { core: { invoke: <T>(command: string, args?: Record<string, unknown>) => Promise<T> } }
const tauri = (window as unknown as { __TAURI__: TauriGlobal }).__TAURI__.core

const $ = (id: string): HTMLElement => document.getElementById(id) as HTMLElement

function show (fields: Record<string, unknown>): void {
  $('status').replaceChildren(...Object.entries(fields).flatMap(([k, v]) => {
    const dt = document.createElement('dt')
    dt.textContent = k
    const dd = document.createElement('dd')
    dd.textContent = typeof v === 'string' ? v : JSON.stringify(v)
    return [dt, dd]
  }))
}

async function main (): Promise<void> {
  // Resolves once the sidecar has printed its first line (the Rust side reads its token file).
  const { url, token } = await tauri.invoke<{ url: string, token: string }>('ipfs_connection')
  configure({ baseUrl: url, token })
  $('state').textContent = `service at ${url}`

  let status = await invoke('ipfs_check_status')
  if (status.installed && !status.running) {
    $('state').textContent = 'starting the IPFS node…'
    status = await invoke('ipfs_start_daemon')
  }
  $('state').textContent = status.running ? 'IPFS node running' : 'IPFS node not running'
  show({ installed: status.installed, running: status.running, peerId: status.peerId ?? '—' })
}

$('quit').addEventListener('click', () => { void tauri.invoke('quit_app') })
main().catch((err: unknown) => {
  // The service's errors carry a stable code the UI can branch on.
  $('error').textContent = err instanceof CommandError ? `${err.code}: ${err.message}` : String(err)
})
