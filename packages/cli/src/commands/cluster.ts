/** `cluster connect|disconnect|status|pin|unpin|pins`, and the cluster step of `add --cluster`. */
import {
  ClusterNotConfiguredError, InvalidArgumentError, checkReplication, clusterClientFromConfig, clusterPin, clusterPins, clusterSecretFile, clusterStatus,
  clusterToToml, clusterUnpin, DaemonManager, kuboVersionFromAgent, parseCid, parseClusterConfig, removeSecretFile, updateFleetConfig, writeSecretFile,
  type ClusterClient, type ClusterConfig, type ClusterPinOutcome, type ClusterPinProgress, type PeerPinStatus
} from '@citrate-ipfs/core'
import { formatBytes } from '@citrate-ipfs/contract/plain'
import type { Context } from '../context.ts'
import { UsageError } from '../errors.ts'
import { registryFor } from './models.ts'

export function clusterConfigOf (ctx: Context): ClusterConfig {
  if (ctx.config.cluster == null) throw new ClusterNotConfiguredError(ctx.config.paths.configFile)
  return ctx.config.cluster
}

export async function clusterClientOf (ctx: Context): Promise<ClusterClient> {
  return await clusterClientFromConfig(clusterConfigOf(ctx), ctx.config.paths.home)
}

/** All of stdin, trimmed of its final newline (a secret piped in, never typed on the command line). */
export async function readStdinSecret (what: string): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  const s = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
  if (s === '' || /[\r\n]/.test(s)) throw new InvalidArgumentError(`${what} on stdin must be one non-empty line`)
  return s
}

function intOption (flag: string, v: string | undefined, fallback: number, min: number): number {
  if (v == null) return fallback
  const n = Number(v)
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${flag} must be an integer of ${min} or more (got "${v}")`)
  return n
}

function secondsOption (flag: string, v: string | undefined, fallback: number): number {
  if (v == null) return fallback
  const n = Number(v)
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag} must be a positive number of seconds (got "${v}")`)
  return n
}

export interface ConnectOptions { user?: string, passwordStdin?: boolean, tokenStdin?: boolean, replicationMin?: string, replicationMax?: string, timeout?: string, pinTimeout?: string }

/** `cluster connect <url>`: writes [ipfs.cluster] (no secret in it) and the credential to secrets/cluster.json (0600); then says hello. */
export async function clusterConnect (ctx: Context, opts: ConnectOptions, url: string): Promise<void> {
  if (opts.passwordStdin === true && opts.tokenStdin === true) throw new UsageError('give --password-stdin (with --user) or --token-stdin, not both')
  if (opts.passwordStdin === true && opts.user == null) throw new UsageError('--password-stdin needs --user <name>')
  const auth = opts.tokenStdin === true ? 'bearer' : opts.user != null ? 'basic' : 'none'
  const table: Record<string, unknown> = {
    url,
    auth,
    ...(opts.user != null ? { username: opts.user } : {}),
    replication_min: intOption('--replication-min', opts.replicationMin, ctx.config.cluster?.replication_min ?? 0, -1),
    replication_max: intOption('--replication-max', opts.replicationMax, ctx.config.cluster?.replication_max ?? 0, -1),
    timeout_seconds: secondsOption('--timeout', opts.timeout, ctx.config.cluster?.timeout_seconds ?? 30),
    pin_timeout_seconds: secondsOption('--pin-timeout', opts.pinTimeout, ctx.config.cluster?.pin_timeout_seconds ?? 600)
  }
  const cfg = parseClusterConfig(table)
  const secretFile = clusterSecretFile(ctx.config.paths.home)
  if (auth === 'basic') {
    if (opts.passwordStdin !== true) throw new UsageError('basic auth needs the password on stdin: --password-stdin')
    await writeSecretFile(secretFile, { password: await readStdinSecret('the password') })
  } else if (auth === 'bearer') {
    await writeSecretFile(secretFile, { token: await readStdinSecret('the token') })
  } else {
    await removeSecretFile(secretFile)
  }
  await updateFleetConfig(ctx.config.paths.configFile, { cluster: clusterToToml(cfg) })
  const client = await clusterClientFromConfig(cfg, ctx.config.paths.home)
  let hello: { id: string, version: string } | undefined
  try {
    hello = await client.id()
  } catch (err) {
    ctx.out.warn(`saved, but the cluster does not answer yet: ${(err as Error).message}`)
  }
  ctx.out.result({ cluster: { ...cfg }, configFile: ctx.config.paths.configFile, secretFile: auth !== 'none' ? secretFile : null, peer: hello ?? null },
    `cluster set to ${cfg.url} (in ${ctx.config.paths.configFile}${auth !== 'none' ? `; ${auth === 'basic' ? 'password' : 'token'} in ${secretFile}, mode 0600` : ''})` +
    (hello != null ? `\nconnected to peer ${hello.id} (IPFS Cluster ${hello.version})` : ''))
}

export async function clusterDisconnect (ctx: Context): Promise<void> {
  await updateFleetConfig(ctx.config.paths.configFile, { cluster: null })
  await removeSecretFile(clusterSecretFile(ctx.config.paths.home))
  ctx.out.result({ cluster: null }, 'cluster settings and credential removed')
}

export async function clusterStatusCommand (ctx: Context): Promise<void> {
  const client = await clusterClientOf(ctx)
  // Each peer's kubo version, asked through our own kubo when it runs and is connected to them.
  let kuboVersionOf: ((id: string) => Promise<string | undefined>) | undefined
  try {
    const rpc = await new DaemonManager({ config: ctx.config }).rpc()
    kuboVersionOf = async (id) => kuboVersionFromAgent((await rpc.json<{ AgentVersion?: string }>('id', { arg: id }, { timeoutMs: 5000 })).AgentVersion ?? '')
  } catch { /* no local daemon: versions are left out */ }
  const st = await clusterStatus(client, { kuboVersionOf })
  const lines = [`IPFS Cluster ${st.version} at ${st.url} — ${st.peers.length} peer${st.peers.length === 1 ? '' : 's'}`]
  for (const p of st.peers) {
    const kubo = p.ipfs.id !== '' ? `kubo ${p.ipfs.id}${p.ipfs.version != null ? ` v${p.ipfs.version}` : ''}` : 'no kubo'
    lines.push(`  ${p.peername !== '' ? p.peername : '?'}  ${p.id}${p.id === st.self ? ' (this one)' : ''}  ${kubo}  ${p.freeSpace != null ? `${formatBytes(p.freeSpace)} free` : 'free space unknown'}${p.error != null ? `  error: ${p.error}` : ''}${p.ipfs.error != null ? `  kubo error: ${p.ipfs.error}` : ''}`)
  }
  ctx.out.result(st, lines.join('\n'))
}

function peerLabel (p: PeerPinStatus): string {
  return p.peername !== '' ? p.peername : p.peer.slice(-8)
}

/** A person's line for a peer's state. */
export function peerLine (p: PeerPinStatus): string {
  return `  ${peerLabel(p)}  ${p.state}${p.state !== p.status && p.state !== 'queued' ? ` (${p.status})` : ''}${p.error != null ? `: ${p.error}` : ''}`
}

export interface ClusterPinCommandOptions { name?: string, replicationMin?: string, replicationMax?: string, timeout?: string }

/**
 * Pins `cid` in the cluster following each peer on stderr (one line per
 * change), records the replicas on registry entries of that CID, and returns
 * the outcome with the ids it recorded on.
 */
export async function clusterPinAndRecord (ctx: Context, cid: string, opts: ClusterPinCommandOptions): Promise<ClusterPinOutcome & { models: string[] }> {
  parseCid(cid)
  const cfg = clusterConfigOf(ctx)
  const min = intOption('--replication-min', opts.replicationMin, cfg.replication_min, -1)
  const max = intOption('--replication-max', opts.replicationMax, cfg.replication_max, -1)
  checkReplication(min, max, '--replication-min')
  const timeoutSeconds = secondsOption('--timeout', opts.timeout, cfg.pin_timeout_seconds)
  const client = await clusterClientFromConfig(cfg, ctx.config.paths.home)
  const r = await clusterPin(client, cid, {
    name: opts.name,
    replicationMin: min,
    replicationMax: max,
    timeoutMs: timeoutSeconds * 1000,
    onProgress: (e: ClusterPinProgress) => {
      ctx.out.event(e)
      if (ctx.out.json) return
      if (e.type === 'citrate:cluster:requested') ctx.out.stderr.write(`cluster pin ${cid}: ${e.required} replica${e.required === 1 ? '' : 's'} required, allocated to ${e.allocations.length > 0 ? `${e.allocations.length} peers` : 'every peer'}\n`)
      else if (e.type === 'citrate:cluster:peer') ctx.out.stderr.write(peerLine(e.peer) + '\n')
      else if (e.type === 'citrate:cluster:progress') ctx.out.stderr.write(`  ${e.pinned}/${e.required} pinned\n`)
    }
  })
  const models = await registryFor(ctx).recordReplica(cid, { kind: 'cluster', target: cfg.url, peers: r.pinned, status: 'pinned', at: new Date().toISOString() })
  return { ...r, models }
}

export async function clusterPinCommand (ctx: Context, opts: ClusterPinCommandOptions, cidOrId: string): Promise<void> {
  // A registered model's id stands for its CID.
  const entry = await registryFor(ctx).get(cidOrId).catch(() => undefined)
  const cid = entry?.cid ?? cidOrId
  const r = await clusterPinAndRecord(ctx, cid, { ...opts, name: opts.name ?? entry?.id })
  ctx.out.result(r, `pinned ${cid} on ${r.pinned.length} cluster peer${r.pinned.length === 1 ? '' : 's'} (${r.required} required)` +
    (r.models.length > 0 ? `\nrecorded on ${r.models.join(', ')}` : ''))
}

export async function clusterUnpinCommand (ctx: Context, cidOrId: string): Promise<void> {
  const entry = await registryFor(ctx).get(cidOrId).catch(() => undefined)
  const cid = entry?.cid ?? cidOrId
  parseCid(cid)
  const cfg = clusterConfigOf(ctx)
  const had = await clusterUnpin(await clusterClientFromConfig(cfg, ctx.config.paths.home), cid)
  const models = await registryFor(ctx).forgetReplica(cid, 'cluster', cfg.url)
  ctx.out.result({ cid, unpinned: had, models }, had ? `unpinned ${cid} from the cluster` : `${cid} was not pinned in the cluster`)
}

export async function clusterPinsCommand (ctx: Context, cid: string | undefined): Promise<void> {
  if (cid != null) parseCid(cid)
  const pins = await clusterPins(await clusterClientOf(ctx), { cid })
  if (ctx.out.json) { ctx.out.result({ pins }, ''); return }
  if (pins.length === 0) { ctx.out.result({ pins }, 'no cluster pins'); return }
  const lines: string[] = []
  for (const p of pins) {
    const pinned = p.peers.filter(x => x.state === 'pinned').length
    lines.push(`${p.cid}${p.name !== '' ? `  ${p.name}` : ''}  ${pinned}/${p.peers.length} peers pinned`)
    for (const peer of p.peers) lines.push(peerLine(peer))
  }
  ctx.out.result({ pins }, lines.join('\n'))
}
