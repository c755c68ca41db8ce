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

export async function serveCommand (ctx: Context, opts: { port: string, open?: boolean }): Promise<void> {
  const port = Number.parseInt(opts.port, 10)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError(`--port must be a port number (got "${opts.port}")`)
  // Packaged (npm run package): the UI embedded in the executable; else the built @citrate-ipfs/ui.
  const dir = uiDir()
  const ui = uiFromSea() ?? (dir != null ? uiFromDir(dir) : undefined)
  const svc = await startService({ home: ctx.config.paths.home, configFile: ctx.config.paths.configFile, port, ui })
  // The page itself carries no token: a browser signs in once through this URL (good once, for two minutes).
  const loginUrl = svc.newLoginUrl()
  ctx.out.result({ url: svc.url, port: svc.port, tokenFile: svc.tokenFile, ui: ui != null, loginUrl },
    `citrate-ipfs service listening on ${svc.url} (loopback only)\n` +
    (ui != null
      ? `setup UI, open this link to sign in (it works once, within two minutes):\n  ${loginUrl}\n` +
        `  a new link for this service: citrate-ipfs login${svc.port === 5050 ? '' : ` --port ${svc.port}`}\n`
      : 'no UI build found (run npm run build); API only\n') +
    `API token: ${svc.tokenFile}\nAPI description: ${svc.url}/api/openapi.json\npress Ctrl-C to stop (kubo keeps running)`)
  if (opts.open === true && ui != null) openBrowser(loginUrl)
  await new Promise<void>(resolve => {
    const stop = (): void => { void svc.close().then(resolve) }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
}

export function openBrowser (url: string): void {
  const [cmd, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]]
  try {
    const child = spawn(cmd as string, args as string[], { stdio: 'ignore', detached: true })
    child.on('error', () => { /* no browser here: the URL is printed */ })
    child.unref()
  } catch { /* no browser here: the URL is printed */ }
}
