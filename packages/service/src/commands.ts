/**
 * The seed's Tauri commands, implemented over @citrate-ipfs/core. Each has a
 * JSON Schema for its arguments (validated before the handler runs, and
 * published in the OpenAPI document) and is type-checked against the client's
 * CommandMap.
 */
import {
  DaemonManager, installKubo, loadConfig, normalizeGatewayUrl, toStatusView, updateIpfsConfig, InvalidArgumentError,
  ContentCorruptError, ModelNotFoundError, pinAdd, pinList, pinRm, registryOf, removeModel, toCitrateError, verifyRegisteredModel,
  type LoadedConfig, type PinListEntry
} from '@citrate-ipfs/core'
import type { Downloads } from './downloads.ts'
import type { CommandArgs, CommandName, CommandResult, ServiceEvent } from '@citrate-ipfs/client'

export interface CommandContext {
  /** Config as on disk now (re-read per call, so CLI changes are seen). */
  config: () => Promise<LoadedConfig>
  emit: (event: ServiceEvent) => void
  env: NodeJS.ProcessEnv
  downloads: Downloads
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

const modelSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'name', 'cid', 'size_bytes', 'quantization', 'downloaded_at', 'path', 'source', 'source_url', 'verified', 'kind'],
  properties: {
    id: { type: 'string' }, name: { type: 'string' }, cid: { type: 'string' }, size_bytes: { type: 'integer', minimum: 0 },
    quantization: { type: ['string', 'null'] }, downloaded_at: { type: 'string' }, path: { type: 'string' },
    source: { enum: ['ipfs', 'gateway', 'local'] }, source_url: { type: ['string', 'null'] }, verified: { type: 'boolean' },
    kind: { enum: ['model', 'dataset', 'checkpoint'] }
  }
}

const downloadSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'cid', 'progress'],
  properties: {
    id: { type: 'string' },
    cid: { type: 'string' },
    model: modelSchema,
    error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } },
    progress: {
      type: 'object',
      required: ['cid', 'total_bytes', 'downloaded_bytes', 'progress_percent', 'speed_mbps', 'eta_seconds', 'status', 'source'],
      properties: {
        cid: { type: 'string' },
        total_bytes: { type: 'number' },
        downloaded_bytes: { type: 'number' },
        progress_percent: { type: 'number' },
        speed_mbps: { type: 'number' },
        eta_seconds: { type: ['number', 'null'] },
        status: { oneOf: [{ enum: ['Queued', 'Connecting', 'Downloading', 'Verifying', 'Complete', 'Paused'] }, { type: 'object', required: ['Failed'], properties: { Failed: { type: 'string' } } }] },
        source: { type: ['string', 'null'] }
      }
    }
  }
}

const idArgs: JsonSchema = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } }
const cidString: JsonSchema = { type: 'string', minLength: 1, maxLength: 200 }

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
  },
  ipfs_download_model: {
    summary: 'Start a verified download by CID (daemon, then gateways); returns at once, progress as download-progress events',
    args: {
      type: 'object',
      additionalProperties: false,
      required: ['cid'],
      properties: {
        cid: cidString,
        name: { type: 'string', minLength: 1, maxLength: 200 },
        filename: { type: 'string', minLength: 1, maxLength: 255 },
        kind: { enum: ['model', 'dataset', 'checkpoint'] },
        source: { enum: ['auto', 'daemon', 'gateway'] }
      }
    },
    result: downloadSchema,
    run: async (ctx, args) => ctx.downloads.start(await ctx.config(), args, ctx.env)
  },
  ipfs_list_downloads: {
    summary: 'Downloads started by this service, with their latest progress',
    args: noArgs,
    result: { type: 'object', required: ['downloads'], properties: { downloads: { type: 'array', items: downloadSchema } } },
    run: async (ctx) => ({ downloads: ctx.downloads.list() })
  },
  ipfs_pause_download: {
    summary: 'Pause a download (verified data is kept)',
    args: idArgs,
    result: downloadSchema,
    run: async (ctx, args) => ctx.downloads.control(args.id, 'pause')
  },
  ipfs_resume_download: {
    summary: 'Resume a paused download',
    args: idArgs,
    result: downloadSchema,
    run: async (ctx, args) => ctx.downloads.control(args.id, 'resume')
  },
  ipfs_cancel_download: {
    summary: 'Cancel a download and discard its partial data',
    args: idArgs,
    result: downloadSchema,
    run: async (ctx, args) => ctx.downloads.control(args.id, 'cancel')
  },
  ipfs_list_models: {
    summary: 'The local model registry (models/registry.json)',
    args: noArgs,
    result: { type: 'object', required: ['models'], properties: { models: { type: 'array', items: modelSchema } } },
    run: async (ctx) => ({ models: await registryOf(await ctx.config()).list() })
  },
  ipfs_verify_model: {
    summary: 'Re-verify a stored model against its CID without a daemon; marks it unverified on bit rot',
    args: idArgs,
    result: {
      type: 'object',
      required: ['id', 'ok'],
      properties: {
        id: { type: 'string' }, ok: { type: 'boolean' }, bytes: { type: 'integer' }, method: { type: 'string' },
        error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, offset: { type: 'integer' }, path: { type: 'string' } } }
      }
    },
    run: async (ctx, args) => {
      const cfg = await ctx.config()
      const entry = await registryOf(cfg).get(args.id)
      if (entry == null) throw new ModelNotFoundError(args.id)
      try {
        const r = await verifyRegisteredModel(cfg, entry)
        return { id: entry.id, ok: true, bytes: r.bytes, method: r.method }
      } catch (err) {
        const e = toCitrateError(err)
        if (e.code === 'ABORTED' || e.code === 'INTERNAL') throw err
        return { id: entry.id, ok: false, error: { code: e.code, message: e.message, ...(err instanceof ContentCorruptError ? { offset: err.offset, path: err.path } : {}) } }
      }
    }
  },
  ipfs_remove_model: {
    summary: 'Remove a model: unpin it (unless keepPin), drop its registry entry, delete its folder',
    args: { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string', minLength: 1 }, keepPin: { type: 'boolean' } } },
    result: { type: 'object', required: ['removed', 'unpinned'], properties: { removed: modelSchema, unpinned: { type: 'boolean' }, pinNote: { type: 'string' } } },
    run: async (ctx, args) => await removeModel(await ctx.config(), args.id, { keepPin: args.keepPin, env: ctx.env })
  },
  ipfs_pin: {
    summary: 'Pin a CID in the local daemon (pin_timeout_seconds applies); progress as pin-progress events',
    args: { type: 'object', additionalProperties: false, required: ['cid'], properties: { cid: cidString, name: { type: 'string', maxLength: 200 } } },
    result: { type: 'object', required: ['cid', 'alreadyPinned', 'blocks'], properties: { cid: { type: 'string' }, alreadyPinned: { type: 'boolean' }, blocks: { type: 'integer' }, bytes: { type: 'integer' } } },
    run: async (ctx, args) => {
      const cfg = await ctx.config()
      const rpc = await (await manager(ctx)).rpc()
      const r = await pinAdd(rpc, args.cid, {
        timeoutSeconds: cfg.ipfs.pin_timeout_seconds,
        ...(args.name != null ? { name: args.name } : {}),
        onProgress: (e) => {
          if (e.type === 'citrate:pin:progress') ctx.emit({ event: 'pin-progress', data: { cid: args.cid, blocks: e.blocks, ...(e.bytes != null ? { bytes: e.bytes } : {}), done: false } })
        }
      })
      ctx.emit({ event: 'pin-progress', data: { cid: r.cid, blocks: r.blocks, ...(r.bytes != null ? { bytes: r.bytes } : {}), done: true } })
      return { cid: r.cid, alreadyPinned: r.alreadyPinned, blocks: r.blocks, ...(r.bytes != null ? { bytes: r.bytes } : {}) }
    }
  },
  ipfs_unpin: {
    summary: 'Unpin a CID; content a registry model relies on needs force',
    args: { type: 'object', additionalProperties: false, required: ['cid'], properties: { cid: cidString, force: { type: 'boolean' } } },
    result: { type: 'object', required: ['cid', 'models'], properties: { cid: { type: 'string' }, models: { type: 'array', items: { type: 'string' } } } },
    run: async (ctx, args) => {
      const cfg = await ctx.config()
      const rpc = await (await manager(ctx)).rpc()
      return await pinRm(rpc, args.cid, { models: await registryOf(cfg).list(), force: args.force === true })
    }
  },
  ipfs_get_pins: {
    summary: 'Recursive pins of the local daemon, with their names and the registry models each backs',
    args: noArgs,
    result: {
      type: 'object',
      required: ['pins'],
      properties: { pins: { type: 'array', items: { type: 'object', required: ['cid', 'type', 'models'], properties: { cid: { type: 'string' }, type: { type: 'string' }, name: { type: 'string' }, models: { type: 'array', items: { type: 'string' } } } } } }
    },
    run: async (ctx) => {
      const cfg = await ctx.config()
      const rpc = await (await manager(ctx)).rpc()
      const pins: Array<Omit<PinListEntry, 'name'> & { name?: string }> = []
      for await (const p of pinList(rpc, { models: await registryOf(cfg).list() })) {
        pins.push({ cid: p.cid, type: p.type, models: p.models, ...(p.name != null ? { name: p.name } : {}) })
      }
      return { pins }
    }
  }
}

export function isCommandName (name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name)
}

export function configLoader (opts: { home?: string, configFile?: string, env?: NodeJS.ProcessEnv }): () => Promise<LoadedConfig> {
  return async () => await loadConfig({ home: opts.home, configFile: opts.configFile, env: opts.env })
}
