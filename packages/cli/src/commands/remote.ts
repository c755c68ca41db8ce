/** `remote service add|ls|rm` and `remote pin add|ls|rm`: pinning services (the IPFS Pinning Service API). */
import { access } from 'node:fs/promises'
import {
  checkRemoteName, connectToDelegates, DaemonManager, InvalidArgumentError, kuboOrigins, parseCid, pinningServiceFromConfig, PinServiceUnknownError, remotePinAdd, remotePinList,
  remotePinRemove, remoteSecretFile, removeSecretFile, updateFleetConfig, writeSecretFile, normalizeServiceUrl,
  type KuboRpc, type PinningServiceClient, type RemotePinView
} from '@citrate-ipfs/core'
import type { Context } from '../context.ts'
import { UsageError } from '../errors.ts'
import { readStdinSecret } from './cluster.ts'
import { registryFor } from './models.ts'

export async function remoteServiceAdd (ctx: Context, opts: { tokenStdin?: boolean, timeout?: string, pinTimeout?: string }, name: string, endpoint: string, key: string | undefined): Promise<void> {
  checkRemoteName(name)
  if (key != null && opts.tokenStdin === true) throw new UsageError('give the access token as an argument or with --token-stdin, not both')
  const url = normalizeServiceUrl(`endpoint of ${name}`, endpoint)
  const table: Record<string, unknown> = { endpoint: url }
  for (const [flag, k, v] of [['--timeout', 'timeout_seconds', opts.timeout], ['--pin-timeout', 'pin_timeout_seconds', opts.pinTimeout]] as const) {
    if (v == null) continue
    const n = Number(v)
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag} must be a positive number of seconds (got "${v}")`)
    table[k] = n
  }
  const token = opts.tokenStdin === true ? await readStdinSecret('the access token') : key
  const secretFile = remoteSecretFile(ctx.config.paths.home, name)
  await updateFleetConfig(ctx.config.paths.configFile, { remote: { [name]: table } })
  if (token != null) await writeSecretFile(secretFile, { token })
  else await removeSecretFile(secretFile)
  ctx.out.result({ name, endpoint: url, hasToken: token != null, configFile: ctx.config.paths.configFile },
    `pinning service ${name} = ${url} (in ${ctx.config.paths.configFile}${token != null ? `; token in ${secretFile}, mode 0600` : '; no token'})`)
}

export async function remoteServiceLs (ctx: Context): Promise<void> {
  const remotes = ctx.config.remotes ?? {}
  const services = await Promise.all(Object.values(remotes).map(async r => {
    const hasToken = await access(remoteSecretFile(ctx.config.paths.home, r.name)).then(() => true, () => false)
    return { name: r.name, endpoint: r.endpoint, hasToken }
  }))
  ctx.out.result({ services }, services.length === 0 ? 'no pinning services' : services.map(s => `${s.name}  ${s.endpoint}${s.hasToken ? '' : '  (no token)'}`).join('\n'))
}

export async function remoteServiceRm (ctx: Context, name: string): Promise<void> {
  checkRemoteName(name)
  if (ctx.config.remotes?.[name] == null) throw new PinServiceUnknownError(name, Object.keys(ctx.config.remotes ?? {}))
  await updateFleetConfig(ctx.config.paths.configFile, { remote: { [name]: null } })
  await removeSecretFile(remoteSecretFile(ctx.config.paths.home, name))
  ctx.out.result({ removed: name }, `pinning service ${name} removed (and its token)`)
}

/** The named service, or the only one configured. */
async function serviceOf (ctx: Context, name: string | undefined): Promise<PinningServiceClient> {
  const names = Object.keys(ctx.config.remotes ?? {})
  if (name == null) {
    if (names.length !== 1) throw new UsageError(names.length === 0 ? 'no pinning service is configured: add one with `citrate-ipfs remote service add <name> <endpoint>`' : `several pinning services are configured (${names.join(', ')}): choose one with --service <name>`)
    name = names[0] as string
  }
  return await pinningServiceFromConfig(ctx.config.remotes, name, ctx.config.paths.home)
}

function pinLine (p: RemotePinView): string {
  return `${p.cid}  ${p.status}${p.name != null ? `  ${p.name}` : ''}  request ${p.requestid}  (${p.service})`
}

export async function remotePinAddCommand (ctx: Context, opts: { service?: string, name?: string, timeout?: string }, cidOrId: string): Promise<void> {
  const entry = await registryFor(ctx).get(cidOrId).catch(() => undefined)
  const cid = entry?.cid ?? cidOrId
  parseCid(cid)
  const svc = await serviceOf(ctx, opts.service)
  const cfg = ctx.config.remotes?.[svc.name]
  const timeoutSeconds = opts.timeout != null ? Number(opts.timeout) : (cfg?.pin_timeout_seconds ?? 600)
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new InvalidArgumentError(`--timeout must be a positive number of seconds (got "${opts.timeout ?? ''}")`)
  // Our kubo's addresses, so the service can fetch from us; without a daemon the service must find the content itself.
  let origins: string[] = []
  let rpc: KuboRpc | undefined
  try {
    rpc = await new DaemonManager({ config: ctx.config }).rpc()
    origins = await kuboOrigins(rpc, { keepLoopback: /^https?:\/\/(127\.|localhost|\[::1\])/.test(svc.endpoint) })
  } catch {
    ctx.out.warn('the kubo daemon is not running: the service gets no origins to fetch from and must find the content itself')
  }
  const view = await remotePinAdd(svc, cid, {
    name: opts.name ?? entry?.id,
    origins,
    ...(rpc != null ? { connectDelegates: async (d: string[]) => { if (rpc != null) await connectToDelegates(rpc, d) } } : {}),
    timeoutMs: timeoutSeconds * 1000,
    onProgress: (e) => {
      ctx.out.event({ type: 'citrate:remote:status', ...e })
      if (!ctx.out.json) ctx.out.stderr.write(`  ${svc.name}: ${e.status} (request ${e.requestid})\n`)
    }
  })
  const models = await registryFor(ctx).recordReplica(cid, { kind: 'remote', target: svc.name, requestid: view.requestid, status: 'pinned', at: new Date().toISOString() })
  ctx.out.result({ ...view, models }, `pinned ${cid} at ${svc.name} (request ${view.requestid})${models.length > 0 ? `\nrecorded on ${models.join(', ')}` : ''}`)
}

export async function remotePinLsCommand (ctx: Context, opts: { service?: string, cid?: string, name?: string }): Promise<void> {
  if (opts.cid != null) parseCid(opts.cid)
  const names = opts.service != null ? [opts.service] : Object.keys(ctx.config.remotes ?? {})
  if (names.length === 0) throw new UsageError('no pinning service is configured: add one with `citrate-ipfs remote service add <name> <endpoint>`')
  const pins: RemotePinView[] = []
  for (const n of names) pins.push(...await remotePinList(await serviceOf(ctx, n), { cid: opts.cid, name: opts.name }))
  ctx.out.result({ pins }, pins.length === 0 ? 'no remote pins' : pins.map(pinLine).join('\n'))
}

export async function remotePinRmCommand (ctx: Context, opts: { service?: string }, cidOrId: string): Promise<void> {
  const entry = await registryFor(ctx).get(cidOrId).catch(() => undefined)
  const cid = entry?.cid ?? cidOrId
  parseCid(cid)
  const svc = await serviceOf(ctx, opts.service)
  const removed = await remotePinRemove(svc, cid)
  const models = await registryFor(ctx).forgetReplica(cid, 'remote', svc.name)
  ctx.out.result({ cid, service: svc.name, removed, models }, removed.length > 0 ? `removed ${removed.length} request${removed.length === 1 ? '' : 's'} for ${cid} at ${svc.name}` : `${svc.name} had no pin of ${cid}`)
}
