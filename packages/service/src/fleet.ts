/**
 * The fleet's commands (IPFS Cluster and pinning services) over core. The
 * credentials stay in their 0600 files: they are read by core when a request
 * is made, and no command returns them.
 */
import { access } from 'node:fs/promises'
import {
  ClusterNotConfiguredError, DaemonManager, InvalidArgumentError, checkReplication, clusterClientFromConfig, clusterPin, clusterPins, clusterStatus, clusterUnpin,
  connectToDelegates, kuboOrigins, kuboVersionFromAgent, parseCid, pinningServiceFromConfig, registryOf, remotePinAdd, remotePinList, remotePinRemove, remoteSecretFile,
  type LoadedConfig, type PinningServiceClient
} from '@citrate-ipfs/core'
import type { RemotePinView } from '@citrate-ipfs/contract'
import { COMMAND_SCHEMAS } from '@citrate-ipfs/contract'
import type { CommandContext, CommandSpec } from './command-spec.ts'

type FleetCommand = 'ipfs_cluster_status' | 'ipfs_cluster_pin' | 'ipfs_cluster_unpin' | 'ipfs_cluster_pins' | 'ipfs_remote_services' | 'ipfs_remote_pin' | 'ipfs_remote_pins' | 'ipfs_remote_unpin'

function clusterOf (cfg: LoadedConfig): NonNullable<LoadedConfig['cluster']> {
  if (cfg.cluster == null) throw new ClusterNotConfiguredError(cfg.paths.configFile)
  return cfg.cluster
}

async function serviceOf (cfg: LoadedConfig, name: string | undefined): Promise<PinningServiceClient> {
  const names = Object.keys(cfg.remotes ?? {})
  if (name == null) {
    if (names.length !== 1) throw new InvalidArgumentError(names.length === 0 ? 'no pinning service is configured ([ipfs.remote.<name>])' : `several pinning services are configured (${names.join(', ')}): name one as service`)
    name = names[0] as string
  }
  return await pinningServiceFromConfig(cfg.remotes, name, cfg.paths.home)
}

async function daemonRpc (ctx: CommandContext): Promise<Awaited<ReturnType<DaemonManager['rpc']>> | undefined> {
  try {
    return await new DaemonManager({ config: await ctx.config(), env: ctx.env }).rpc()
  } catch {
    return undefined
  }
}

export const fleetCommands: { [C in FleetCommand]: CommandSpec<C> } = {
  ipfs_cluster_status: {
    ...COMMAND_SCHEMAS.ipfs_cluster_status,
    run: async (ctx) => {
      const cfg = await ctx.config()
      const client = await clusterClientFromConfig(clusterOf(cfg), cfg.paths.home)
      const rpc = await daemonRpc(ctx)
      return await clusterStatus(client, {
        ...(rpc != null ? { kuboVersionOf: async (id: string) => kuboVersionFromAgent((await rpc.json<{ AgentVersion?: string }>('id', { arg: id }, { timeoutMs: 5000 })).AgentVersion ?? '') } : {})
      })
    }
  },
  ipfs_cluster_pin: {
    ...COMMAND_SCHEMAS.ipfs_cluster_pin,
    run: async (ctx, args) => {
      parseCid(args.cid)
      const cfg = await ctx.config()
      const cluster = clusterOf(cfg)
      const min = args.replicationMin ?? cluster.replication_min
      const max = args.replicationMax ?? cluster.replication_max
      try {
        checkReplication(min, max, 'replicationMin')
      } catch (err) {
        throw new InvalidArgumentError((err as Error).message)
      }
      const client = await clusterClientFromConfig(cluster, cfg.paths.home)
      const r = await clusterPin(client, args.cid, {
        name: args.name,
        replicationMin: min,
        replicationMax: max,
        timeoutMs: (args.timeoutSeconds ?? cluster.pin_timeout_seconds) * 1000,
        onProgress: (e) => ctx.emit({ event: 'cluster-pin-progress', data: e })
      })
      const models = await registryOf(cfg).recordReplica(args.cid, { kind: 'cluster', target: cluster.url, peers: r.pinned, status: 'pinned', at: new Date().toISOString() })
      return { ...r, models }
    }
  },
  ipfs_cluster_unpin: {
    ...COMMAND_SCHEMAS.ipfs_cluster_unpin,
    run: async (ctx, args) => {
      parseCid(args.cid)
      const cfg = await ctx.config()
      const cluster = clusterOf(cfg)
      const unpinned = await clusterUnpin(await clusterClientFromConfig(cluster, cfg.paths.home), args.cid)
      const models = await registryOf(cfg).forgetReplica(args.cid, 'cluster', cluster.url)
      return { cid: args.cid, unpinned, models }
    }
  },
  ipfs_cluster_pins: {
    ...COMMAND_SCHEMAS.ipfs_cluster_pins,
    run: async (ctx, args) => {
      if (args.cid != null) parseCid(args.cid)
      const cfg = await ctx.config()
      return { pins: await clusterPins(await clusterClientFromConfig(clusterOf(cfg), cfg.paths.home), { cid: args.cid }) }
    }
  },
  ipfs_remote_services: {
    ...COMMAND_SCHEMAS.ipfs_remote_services,
    run: async (ctx) => {
      const cfg = await ctx.config()
      const services = await Promise.all(Object.values(cfg.remotes ?? {}).map(async r => ({
        name: r.name,
        endpoint: r.endpoint,
        hasToken: await access(remoteSecretFile(cfg.paths.home, r.name)).then(() => true, () => false)
      })))
      return { services }
    }
  },
  ipfs_remote_pin: {
    ...COMMAND_SCHEMAS.ipfs_remote_pin,
    run: async (ctx, args) => {
      parseCid(args.cid)
      const cfg = await ctx.config()
      const svc = await serviceOf(cfg, args.service)
      const rpc = await daemonRpc(ctx)
      const origins = rpc != null ? await kuboOrigins(rpc, { keepLoopback: /^https?:\/\/(127\.|localhost|\[::1\])/.test(svc.endpoint) }).catch(() => []) : []
      const view = await remotePinAdd(svc, args.cid, {
        name: args.name,
        origins,
        ...(rpc != null ? { connectDelegates: async (d: string[]) => { await connectToDelegates(rpc, d) } } : {}),
        timeoutMs: (args.timeoutSeconds ?? cfg.remotes?.[svc.name]?.pin_timeout_seconds ?? 600) * 1000,
        onProgress: (e) => ctx.emit({ event: 'remote-pin-progress', data: e })
      })
      const models = await registryOf(cfg).recordReplica(args.cid, { kind: 'remote', target: svc.name, requestid: view.requestid, status: 'pinned', at: new Date().toISOString() })
      return { ...view, models }
    }
  },
  ipfs_remote_pins: {
    ...COMMAND_SCHEMAS.ipfs_remote_pins,
    run: async (ctx, args) => {
      if (args.cid != null) parseCid(args.cid)
      const cfg = await ctx.config()
      const names = args.service != null ? [args.service] : Object.keys(cfg.remotes ?? {})
      const pins: RemotePinView[] = []
      for (const n of names) pins.push(...await remotePinList(await serviceOf(cfg, n), { cid: args.cid }))
      return { pins }
    }
  },
  ipfs_remote_unpin: {
    ...COMMAND_SCHEMAS.ipfs_remote_unpin,
    run: async (ctx, args) => {
      parseCid(args.cid)
      const cfg = await ctx.config()
      const svc = await serviceOf(cfg, args.service)
      const removed = await remotePinRemove(svc, args.cid)
      const models = await registryOf(cfg).forgetReplica(args.cid, 'remote', svc.name)
      return { cid: args.cid, service: svc.name, removed, models }
    }
  }
}
