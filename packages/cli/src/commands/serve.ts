import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { InvalidArgumentError } from '@citrate-ipfs/core'
import { startService, uiFromDir, uiFromSea } from '@citrate-ipfs/service'
import type { Context } from '../context.ts'

/** The built UI shipped in @citrate-ipfs/ui (undefined when it has not been built). */
export function uiDir (): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve('@citrate-ipfs/ui/package.json')
    const dist = join(dirname(pkg), 'dist')
    return existsSync(join(dist, 'index.html')) ? dist : undefined
  } catch {
    return undefined
  }
}

/**
 * `--sidecar` (a Tauri app's `serve --json --sidecar`): the app's end is our stdin closing — it closes the
 * pipe on exit, and the OS closes it if the app dies —, which works on every platform, unlike signals on
 * Windows. The kubo this service started stops with it; one it adopted keeps running.
 */
export async function serveCommand (ctx: Context, opts: { port: string, open?: boolean, sidecar?: boolean }): Promise<void> {
  const port = Number.parseInt(opts.port, 10)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError(`--port must be a port number (got "${opts.port}")`)
  // Packaged (npm run package): the UI embedded in the executable; else the built @citrate-ipfs/ui.
  const dir = uiDir()
  const ui = uiFromSea() ?? (dir != null ? uiFromDir(dir) : undefined)
  const sidecar = opts.sidecar === true
  const svc = await startService({ home: ctx.config.paths.home, configFile: ctx.config.paths.configFile, port, ui, stopDaemonOnClose: sidecar })
  // The page itself carries no token: a browser signs in once through this URL (good once, for two minutes).
  const loginUrl = svc.newLoginUrl()
  ctx.out.result({ url: svc.url, port: svc.port, tokenFile: svc.tokenFile, ui: ui != null, loginUrl },
    `citrate-ipfs service listening on ${svc.url} (loopback only)\n` +
    (ui != null
      ? `setup UI, open this link to sign in (it works once, within two minutes):\n  ${loginUrl}\n` +
        `  a new link for this service: citrate-ipfs login${svc.port === 5050 ? '' : ` --port ${svc.port}`}\n`
      : 'no UI build found (run npm run build); API only\n') +
    `API token: ${svc.tokenFile}\nAPI description: ${svc.url}/api/openapi.json\n` +
    (sidecar ? 'stops when stdin closes (with the kubo daemon it started)' : 'press Ctrl-C to stop (kubo keeps running)'))
  if (opts.open === true && ui != null) openBrowser(loginUrl)
  await new Promise<void>((resolve, reject) => {
    let stopping = false
    const stop = (): void => {
      if (stopping) return
      stopping = true
      svc.close().then(resolve, reject)
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    if (sidecar) {
      // An app that died took the read ends of our stdout and stderr with it: a log line written on the
      // way out then fails with EPIPE, which must not kill us before the kubo we started is stopped.
      process.stdout.on('error', () => {})
      process.stderr.on('error', () => {})
      process.stdin.once('end', stop)
      process.stdin.once('close', stop)
      process.stdin.once('error', stop)
      process.stdin.resume()
    }
  })
  // stdin may still hold the event loop open.
  if (sidecar) process.stdin.destroy()
}

export function openBrowser (url: string): void {
  const [cmd, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]]
  try {
    const child = spawn(cmd as string, args as string[], { stdio: 'ignore', detached: true })
    child.on('error', () => { /* no browser here: the URL is printed */ })
    child.unref()
  } catch { /* no browser here: the URL is printed */ }
}
