/**
 * `citrate-ipfs login`: a fresh one-time login URL for the service already
 * running on this machine (the one `serve` printed has a two-minute life). It
 * proves itself with the token file, which only this user can read.
 */
import { readFile } from 'node:fs/promises'
import { InvalidArgumentError } from '@citrate-ipfs/core'
import { LOGIN_CODES_PATH, tokenPath, type LoginUrl } from '@citrate-ipfs/service'
import type { Context } from '../context.ts'
import { UsageError } from '../errors.ts'
import { openBrowser } from './serve.ts'

export async function loginCommand (ctx: Context, opts: { port: string, open?: boolean }): Promise<void> {
  const port = Number.parseInt(opts.port, 10)
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new InvalidArgumentError(`--port must be a port number (got "${opts.port}")`)
  const file = tokenPath(ctx.config.paths.home)
  let token: string
  try {
    token = (await readFile(file, 'utf8')).trim()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    throw new UsageError(`no service token at ${file}: start the service first (citrate-ipfs serve)`)
  }
  const base = `http://127.0.0.1:${port}`
  let res: Response
  try {
    res = await fetch(base + LOGIN_CODES_PATH, { method: 'POST', headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) })
  } catch {
    throw new UsageError(`no citrate-ipfs service answers on ${base}: start it with \`citrate-ipfs serve\`, or name its port with --port`)
  }
  if (res.status === 401) throw new UsageError(`the service on ${base} does not accept the token in ${file}: it belongs to another CITRATE_HOME (use that home, or its --config)`)
  if (!res.ok) throw new UsageError(`the service on ${base} refused a login URL (HTTP ${res.status}); is it citrate-ipfs serve?`)
  const login = await res.json() as LoginUrl
  ctx.out.result(login, `open this link to sign in (it works once, until ${login.expiresAt}):\n  ${login.loginUrl}`)
  if (opts.open === true) openBrowser(login.loginUrl)
}
