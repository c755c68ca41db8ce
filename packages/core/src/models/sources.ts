/**
 * The ordered source list of a pull, per the seed: the local daemon's gateway
 * when it is running (last instead of first with use_external_by_default),
 * then external_gateway, then fallback_gateway, then public gateways that serve
 * trustless responses. Duplicates are removed; every one is spoken to the
 * trustless way, the local daemon included.
 */
import type { DownloadSourceMode } from '@citrate-ipfs/contract'
import type { LoadedConfig } from '../config/load.ts'
import { DaemonManager } from '../daemon/manager.ts'
import type { KuboRpc } from '../daemon/rpc.ts'
import { DaemonNotRunningError } from '../errors.ts'
import { clusterClientFromConfig } from '../cluster/index.ts'
import { logger } from '../log.ts'
import { GatewaySource, TIER_CAPS, type BlockSource } from '../fetch/index.ts'

/** Public gateways known to answer `application/vnd.ipld.raw` and `.car` requests. */
export { PUBLIC_TRUSTLESS_GATEWAYS } from '../config/schema.ts'

/** Where a pull's blocks may come from (the wire contract's `source` argument). */
export type SourceMode = DownloadSourceMode

export interface ResolveSourcesOptions {
  config: LoadedConfig
  mode?: SourceMode
  /** Replaces the built-in public list ([] for none, as tests do). */
  publicGateways?: readonly string[]
  stallMs?: number
  env?: NodeJS.ProcessEnv
}

export interface ResolvedSources {
  sources: BlockSource[]
  /** The running daemon's RPC client, carrying the RPC secret (for pinning). */
  daemonRpc: KuboRpc | undefined
}

const log = logger('sources')

/** How long a pull waits for the cluster's list of peer gateways before it starts without them. */
export const CLUSTER_DISCOVERY_MS = 3000

/** The gateways the cluster's peers announce, in the cluster's order; [] when there is no cluster or it does not answer in time. */
export async function clusterGatewayUrls (config: LoadedConfig): Promise<Array<{ peer: string, url: string }>> {
  const c = config.cluster
  if (c == null) return []
  try {
    const client = await clusterClientFromConfig({ ...c, timeout_seconds: Math.min(c.timeout_seconds, CLUSTER_DISCOVERY_MS / 1000) }, config.paths.home)
    return await client.gateways(AbortSignal.timeout(CLUSTER_DISCOVERY_MS))
  } catch (err) {
    log('cluster %s: no peer gateways (%s); pulling without the fleet', c.url, (err as Error).message)
    return []
  }
}

export async function resolveSources (opts: ResolveSourcesOptions): Promise<ResolvedSources> {
  const mode = opts.mode ?? 'auto'
  const ipfs = opts.config.ipfs
  let daemon: GatewaySource | undefined
  let daemonRpc: KuboRpc | undefined
  if (mode !== 'gateway' && ipfs.daemon_enabled) {
    const running = await new DaemonManager({ config: opts.config, env: opts.env }).runningDaemon().catch(() => undefined)
    if (running != null) {
      // The gateway, unlike the RPC, is open on loopback by design: it is read as an untrusted source.
      const { gatewayUrl } = running.status
      daemon = new GatewaySource(gatewayUrl, { name: `daemon (${gatewayUrl})`, kind: 'daemon', stallMs: opts.stallMs })
      daemonRpc = running.rpc
    }
  }
  if (mode === 'daemon') {
    if (daemon == null) throw new DaemonNotRunningError('daemon-only retrieval needs a running kubo daemon, and none is running')
    return { sources: [daemon], daemonRpc }
  }
  const own = new Set([ipfs.external_gateway, ipfs.fallback_gateway].map(u => u.replace(/\/+$/, '')))
  const urls = [ipfs.external_gateway, ipfs.fallback_gateway, ...(opts.publicGateways ?? ipfs.public_gateways)]
    .filter(u => u !== '')
    .map(u => u.replace(/\/+$/, ''))
  const seen = new Set<string>(daemon != null ? [daemon.baseUrl] : [])
  const gateways: BlockSource[] = []
  const fleet = (await clusterGatewayUrls(opts.config)).map(f => ({ url: f.url.replace(/\/+$/, ''), peer: f.peer }))
  const fleetUrls = new Set(fleet.map(f => f.url))
  // The fleet after the user's own gateways, before the public ones.
  const ownCount = [ipfs.external_gateway, ipfs.fallback_gateway].filter(u => u !== '').length
  const ordered: Array<{ url: string, name?: string }> = [
    ...urls.slice(0, ownCount).map(url => ({ url })),
    ...fleet.map(f => ({ url: f.url, name: `cluster peer ${f.peer.slice(-8)} (${f.url})` })),
    ...urls.slice(ownCount).map(url => ({ url }))
  ]
  for (const { url: u, name } of ordered) {
    if (seen.has(u)) continue
    seen.add(u)
    // Public gateways rate-limit: a modest cap of requests in flight (the user's own gateways and cluster peers get the default 8).
    gateways.push(new GatewaySource(u, { name, stallMs: opts.stallMs, maxInFlight: own.has(u) || fleetUrls.has(u) ? undefined : TIER_CAPS.public }))
  }
  const sources = daemon == null ? gateways : ipfs.use_external_by_default ? [...gateways, daemon] : [daemon, ...gateways]
  return { sources, daemonRpc }
}
