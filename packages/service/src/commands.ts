/**
 * The seed's Tauri commands, implemented over @citrate-ipfs/core. Each has a
 * JSON Schema for its arguments (validated before the handler runs, and
 * published in the OpenAPI document) and is type-checked against the client's
 * CommandMap.
 */
import {
  DaemonManager, installKubo, loadConfig, normalizeGatewayUrl, toStatusView, updateIpfsConfig, InvalidArgumentError,
  type LoadedConfig
} from '@citrate-ipfs/core'
import type { CommandArgs, CommandName, CommandResult, ServiceEvent } from '@citrate-ipfs/client'

export interface CommandContext {
  /** Config as on disk now (re-read per call, so CLI changes are seen). */
  config: () => Promise<LoadedConfig>
  emit: (event: ServiceEvent) => void
  env: NodeJS.ProcessEnv
}

export interface JsonSchema { [key: string]: unknown }

export interface CommandSpec<C extends CommandName> {
  summary: string
  args: JsonSchema
  result: JsonSchema
  run: (ctx: CommandContext, args: CommandArgs<C>) => Promise<CommandResult<C>>
}

const noArgs: JsonSchema = { type: 'object', additionalProperties: false, properties: {} }

const statusSchema: JsonSchema = {
  type: 'object',
  required: ['state', 'installed', 'running', 'connected'],
  properties: {
    state: { enum: ['NotInstalled', 'Stopped', 'Starting', 'Running', 'Error'] },
    installed: { type: 'boolean' },
    running: { type: 'boolean' },
    connected: { type: 'boolean' },
    peerId: { type: 'string' },
    addresses: { type: 'array', items: { type: 'string' } },
    apiUrl: { type: 'string' },
    gatewayUrl: { type: 'string' },
    kuboVersion: { type: 'string' },
    pid: { type: 'integer' },
    message: { type: 'string' },
    error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, logTail: { type: 'string' } } }
  }
}

const gatewaySchema: JsonSchema = {
  type: 'object',
  required: ['external_gateway', 'fallback_gateway', 'use_external_by_default'],
  properties: { external_gateway: { type: 'string' }, fallback_gateway: { type: 'string' }, use_external_by_default: { type: 'boolean' } }
}

const manager = async (ctx: CommandContext): Promise<DaemonManager> => new DaemonManager({ config: await ctx.config(), env: ctx.env })

export const COMMANDS: { [C in CommandName]: CommandSpec<C> } = {
  ipfs_check_status: {
    summary: 'Whether kubo is installed and running, with peer id and addresses',
    args: noArgs,
    result: statusSchema,
    run: async (ctx) => toStatusView(await (await manager(ctx)).status())
  },
  ipfs_install: {
    summary: 'Download, verify (sha512) and install kubo into $CITRATE_HOME/bin; progress as install-progress events',
    args: { type: 'object', additionalProperties: false, properties: { version: { type: 'string', pattern: '^(latest|v?\\d+\\.\\d+\\.\\d+(-[0-9A-Za-z.-]+)?)$' } } },
    result: { type: 'object', required: ['path', 'version', 'sha512', 'bytes'], properties: { path: { type: 'string' }, version: { type: 'string' }, sha512: { type: 'string' }, bytes: { type: 'integer' } } },
    run: async (ctx, args) => {
      const cfg = await ctx.config()
      try {
        return await installKubo({
          paths: cfg.paths,
          version: args.version ?? cfg.ipfs.kubo_version,
          distUrl: cfg.ipfs.dist_url,
          onProgress: (e) => ctx.emit({ event: 'install-progress', data: e })
        })
      } catch (err) {
        const e = err as { code?: string, message?: string }
        ctx.emit({ event: 'install-progress', data: { type: 'citrate:install:failed', code: e.code ?? 'INTERNAL', message: e.message ?? String(err) } })
        throw err
      }
    }
  },
  ipfs_start_daemon: {
    summary: 'Start kubo, or adopt the daemon already running on this repo',
    args: noArgs,
    result: { ...statusSchema, required: [...(statusSchema.required as string[]), 'adopted'], properties: { ...(statusSchema.properties as object), adopted: { type: 'boolean' } } },
    run: async (ctx) => {
      const { status, adopted } = await (await manager(ctx)).start({ onProgress: (e) => ctx.emit({ event: 'daemon-progress', data: e }) })
      const view = { adopted, ...toStatusView(status) }
      ctx.emit({ event: 'status', data: view })
      return view
    }
  },
  ipfs_stop_daemon: {
    summary: 'Stop kubo: RPC shutdown, then SIGTERM, then SIGKILL after timeouts',
    args: noArgs,
    result: { type: 'object', required: ['wasRunning'], properties: { wasRunning: { type: 'boolean' }, method: { enum: ['rpc', 'SIGTERM', 'SIGKILL'] } } },
    run: async (ctx) => {
      const m = await manager(ctx)
      const r = await m.stop()
      ctx.emit({ event: 'status', data: toStatusView(await m.status()) })
      return r
    }
  },
  ipfs_configure_gateway: {
    summary: 'Set external_gateway (https, or http on loopback); an empty url removes it',
    args: { type: 'object', additionalProperties: false, required: ['url'], properties: { url: { type: 'string', maxLength: 2048 } } },
    result: gatewaySchema,
    run: async (ctx, args) => {
      let url = ''
      if (args.url.trim() !== '') {
        try {
          url = normalizeGatewayUrl(args.url)
        } catch (err) {
          throw new InvalidArgumentError(`gateway: ${(err as Error).message}`)
        }
      }
      const cfg = await ctx.config()
      await updateIpfsConfig(cfg.paths.configFile, { external_gateway: url })
      const after = await ctx.config()
      return { external_gateway: after.ipfs.external_gateway, fallback_gateway: after.ipfs.fallback_gateway, use_external_by_default: after.ipfs.use_external_by_default }
    }
  },
  ipfs_get_config: {
    summary: 'The effective [ipfs] configuration',
    args: noArgs,
    result: { type: 'object', required: ['configFile', 'home', 'ipfs'], properties: { configFile: { type: 'string' }, home: { type: 'string' }, ipfs: { type: 'object' } } },
    run: async (ctx) => {
      const cfg = await ctx.config()
      return { configFile: cfg.paths.configFile, home: cfg.paths.home, ipfs: { ...cfg.ipfs } }
    }
  }
}

export function isCommandName (name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name)
}

export function configLoader (opts: { home?: string, configFile?: string, env?: NodeJS.ProcessEnv }): () => Promise<LoadedConfig> {
  return async () => await loadConfig({ home: opts.home, configFile: opts.configFile, env: opts.env })
}
