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
  for (const u of urls) {
    if (seen.has(u)) continue
    seen.add(u)
    // Public gateways rate-limit: a modest cap of requests in flight (the user's own gateways get the default 8).
    gateways.push(new GatewaySource(u, { stallMs: opts.stallMs, maxInFlight: own.has(u) ? undefined : TIER_CAPS.public }))
  }
  const sources = daemon == null ? gateways : ipfs.use_external_by_default ? [...gateways, daemon] : [daemon, ...gateways]
  return { sources, daemonRpc }
}
