/**
 * The seed's Tauri commands, implemented over @citrate-ipfs/core. Summaries
 * and schemas come from @citrate-ipfs/contract (the arguments are validated
 * before the handler runs, and both are published in the OpenAPI document);
 * this table adds only the handlers, each type-checked against the contract's
 * types for its arguments and result.
 */
import {
  DaemonManager, installKubo, loadConfig, normalizeGatewayUrl, toStatusView, updateIpfsConfig, InvalidArgumentError,
  checkPinName, ContentCorruptError, diskUsage, getObject, parseContentPath, putObject, resolveSources, ModelNotFoundError, parseCid, pinAdd, pinList, pinPending, pinRm, registryOf, removeModel, toCitrateError, verifyRegisteredModel,
  type LoadedConfig
} from '@citrate-ipfs/core'
import { COMMAND_SCHEMAS, OBJECT_GET_DEFAULT_BYTES, OBJECT_PUT_MAX_BYTES, type CommandArgs, type CommandName, type CommandResult, type PinView, type ServiceEvent } from '@citrate-ipfs/contract'
import type { Downloads } from './downloads.ts'
import type { NodeSampler } from './node-stats.ts'
import { configView, setIpfsConfig } from './settings.ts'
import { publishPath } from './publish.ts'

export interface CommandContext {
  /** Config as on disk now (re-read per call, so CLI changes are seen). */
  config: () => Promise<LoadedConfig>
  emit: (event: ServiceEvent) => void
  env: NodeJS.ProcessEnv
  downloads: Downloads
  /** Samples kubo's bandwidth for ipfs_node_stats. */
  node: NodeSampler
  /** Whether this service started the running daemon (rather than adopting one), so it can stop it on close. */
  daemon: { startedHere: boolean }
}

/** A command: its summary and schemas, taken from the contract, and the handler that runs it. */
export type CommandSpec<C extends CommandName> = typeof COMMAND_SCHEMAS[C] & {
  run: (ctx: CommandContext, args: CommandArgs<C>) => Promise<CommandResult<C>>
}

const manager = async (ctx: CommandContext): Promise<DaemonManager> => new DaemonManager({ config: await ctx.config(), env: ctx.env })

export const COMMANDS: { [C in CommandName]: CommandSpec<C> } = {
  ipfs_check_status: {
    ...COMMAND_SCHEMAS.ipfs_check_status,
    run: async (ctx) => toStatusView(await (await manager(ctx)).status())
  },
  ipfs_install: {
    ...COMMAND_SCHEMAS.ipfs_install,
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
    ...COMMAND_SCHEMAS.ipfs_start_daemon,
    run: async (ctx) => {
      const m = await manager(ctx)
      const { status, adopted } = await m.start({ onProgress: (e) => ctx.emit({ event: 'daemon-progress', data: e }) })
      if (!adopted) ctx.daemon.startedHere = true
      // Models auto_pin wanted pinned while the daemon was down are pinned now, from their verified bytes on disk.
      const cfg = await ctx.config()
      await pinPending({ rpc: await m.rpc(), registry: registryOf(cfg), paths: cfg.paths, timeoutMs: cfg.ipfs.pin_timeout_seconds * 1000 }).catch(() => undefined)
      const view = { adopted, ...toStatusView(status) }
      ctx.emit({ event: 'status', data: view })
      return view
    }
  },
  ipfs_stop_daemon: {
    ...COMMAND_SCHEMAS.ipfs_stop_daemon,
    run: async (ctx) => {
      const m = await manager(ctx)
      const r = await m.stop()
      ctx.daemon.startedHere = false
      ctx.emit({ event: 'status', data: toStatusView(await m.status()) })
      return r
    }
  },
  ipfs_configure_gateway: {
    ...COMMAND_SCHEMAS.ipfs_configure_gateway,
    run: async (ctx, args) => {
      const updates: { external_gateway: string, fallback_gateway?: string } = { external_gateway: gatewayArg('url', args.url) }
      if (args.fallback != null) updates.fallback_gateway = gatewayArg('fallback', args.fallback)
      const cfg = await ctx.config()
      await updateIpfsConfig(cfg.paths.configFile, updates)
      const after = await ctx.config()
      return { external_gateway: after.ipfs.external_gateway, fallback_gateway: after.ipfs.fallback_gateway, use_external_by_default: after.ipfs.use_external_by_default }
    }
  },
  ipfs_get_config: {
    ...COMMAND_SCHEMAS.ipfs_get_config,
    run: async (ctx) => configView(await ctx.config())
  },
  ipfs_set_config: {
    ...COMMAND_SCHEMAS.ipfs_set_config,
    run: async (ctx, args) => await setIpfsConfig(ctx.config, args.values)
  },
  ipfs_download_model: {
    ...COMMAND_SCHEMAS.ipfs_download_model,
    run: async (ctx, args) => ctx.downloads.start(await ctx.config(), args, ctx.env)
  },
  ipfs_list_downloads: {
    ...COMMAND_SCHEMAS.ipfs_list_downloads,
    run: async (ctx) => ({ downloads: ctx.downloads.list() })
  },
  ipfs_pause_download: {
    ...COMMAND_SCHEMAS.ipfs_pause_download,
    run: async (ctx, args) => ctx.downloads.control(args.id, 'pause')
  },
  ipfs_resume_download: {
    ...COMMAND_SCHEMAS.ipfs_resume_download,
    run: async (ctx, args) => ctx.downloads.control(args.id, 'resume')
  },
  ipfs_cancel_download: {
    ...COMMAND_SCHEMAS.ipfs_cancel_download,
    run: async (ctx, args) => ctx.downloads.control(args.id, 'cancel')
  },
  ipfs_retry_download: {
    ...COMMAND_SCHEMAS.ipfs_retry_download,
    run: async (ctx, args) => ctx.downloads.retry(args.id, await ctx.config(), ctx.env)
  },
  ipfs_dismiss_download: {
    ...COMMAND_SCHEMAS.ipfs_dismiss_download,
    run: async (ctx, args) => ctx.downloads.dismiss(args.id)
  },
  ipfs_set_download_limit: {
    ...COMMAND_SCHEMAS.ipfs_set_download_limit,
    run: async (ctx, args) => ctx.downloads.setLimit(args.mbps)
  },
  ipfs_list_models: {
    ...COMMAND_SCHEMAS.ipfs_list_models,
    run: async (ctx) => {
      const cfg = await ctx.config()
      const models = await registryOf(cfg).list()
      return { models, total_disk_bytes: (await diskUsage(cfg.paths, models)).totalBytes }
    }
  },
  ipfs_verify_model: {
    ...COMMAND_SCHEMAS.ipfs_verify_model,
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
    ...COMMAND_SCHEMAS.ipfs_remove_model,
    run: async (ctx, args) => await removeModel(await ctx.config(), args.id, { keepPin: args.keepPin, env: ctx.env })
  },
  ipfs_pin: {
    ...COMMAND_SCHEMAS.ipfs_pin,
    run: async (ctx, args) => {
      // Bad input is the caller's mistake (400) whether or not the daemon runs: checked before asking for it.
      parseCid(args.cid)
      if (args.name != null) checkPinName(args.name)
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
    ...COMMAND_SCHEMAS.ipfs_unpin,
    run: async (ctx, args) => {
      parseCid(args.cid)
      const cfg = await ctx.config()
      const rpc = await (await manager(ctx)).rpc()
      return await pinRm(rpc, args.cid, { models: await registryOf(cfg).list(), force: args.force === true })
    }
  },
  ipfs_get: {
    ...COMMAND_SCHEMAS.ipfs_get,
    run: async (ctx, args) => {
      parseContentPath(args.cid, { fieldNames: true }) // a malformed reference is a 400 before any source is asked
      const { sources } = await resolveSources({ config: await ctx.config(), mode: args.source ?? 'auto', env: ctx.env })
      const got = await getObject(args.cid, { sources, maxBytes: args.maxBytes ?? OBJECT_GET_DEFAULT_BYTES })
      const bytes = Buffer.from(got.content.buffer, got.content.byteOffset, got.content.byteLength)
      const node = got.kind === 'dag-cbor' || got.kind === 'dag-json'
      return {
        root: got.root,
        path: got.path,
        cid: got.cid,
        kind: got.kind,
        size: got.content.byteLength,
        ...(node ? { json: JSON.parse(bytes.toString('utf8')) as unknown } : { base64: bytes.toString('base64') })
      }
    }
  },
  ipfs_put: {
    ...COMMAND_SCHEMAS.ipfs_put,
    run: async (ctx, args) => {
      const bytes = putInput(args)
      const codec = args.codec ?? 'unixfs'
      // Checked (and hashed) before the daemon is asked for: bad or oversized input is a 400 / 413 whether or not it runs.
      await putObject(bytes, { codec, maxBytes: OBJECT_PUT_MAX_BYTES })
      const rpc = await (await manager(ctx)).rpc()
      const r = await putObject(bytes, { codec, rpc, pin: args.pin !== false, maxBytes: OBJECT_PUT_MAX_BYTES })
      return { cid: r.cid, url: `ipfs://${r.cid}`, codec: r.codec, size: r.size, pinned: r.pinned }
    }
  },
  ipfs_get_pins: {
    ...COMMAND_SCHEMAS.ipfs_get_pins,
    run: async (ctx) => {
      const cfg = await ctx.config()
      const rpc = await (await manager(ctx)).rpc()
      const pins: PinView[] = []
      for await (const p of pinList(rpc, { models: await registryOf(cfg).list() })) {
        pins.push({ cid: p.cid, type: p.type, models: p.models, ...(p.name != null ? { name: p.name } : {}) })
      }
      // Sizes are best-effort: the root of a recursive pin is local, so files/stat answers at once; a pin it cannot size is listed without one.
      await Promise.all(pins.map(async (p) => {
        const stat = await rpc.json<{ CumulativeSize?: number }>('files/stat', { arg: `/ipfs/${p.cid}` }, { timeoutMs: 5000 }).catch(() => undefined)
        if (typeof stat?.CumulativeSize === 'number') p.size_bytes = stat.CumulativeSize
      }))
      return { pins }
    }
  },
  ipfs_add: {
    ...COMMAND_SCHEMAS.ipfs_add,
    run: async (ctx, args) => await publishPath(await manager(ctx), args, ctx.emit)
  },
  ipfs_node_stats: {
    ...COMMAND_SCHEMAS.ipfs_node_stats,
    run: async (ctx, args) => await ctx.node.stats(await ctx.config(), await manager(ctx), args.log_lines ?? 40)
  }
}

/** A gateway URL argument, normalised as it will be stored; "" turns that source off. */
function gatewayArg (arg: string, value: string): string {
  if (value === '') return ''
  try {
    return normalizeGatewayUrl(value)
  } catch (err) {
    throw new InvalidArgumentError(`${arg}: gateway URL ${JSON.stringify(value)} ${(err as Error).message}`)
  }
}

export function isCommandName (name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name)
}

export function configLoader (opts: { home?: string, configFile?: string, env?: NodeJS.ProcessEnv }): () => Promise<LoadedConfig> {
  return async () => await loadConfig({ home: opts.home, configFile: opts.configFile, env: opts.env })
}

/** The bytes of an ipfs_put: exactly one of `json` (its JSON text), `text` (UTF-8) or `base64` (strict). */
function putInput (args: CommandArgs<'ipfs_put'>): Buffer {
  const given = (['json', 'text', 'base64'] as const).filter(k => args[k] !== undefined)
  if (given.length !== 1) throw new InvalidArgumentError(`ipfs_put takes exactly one of json, text or base64 (got ${given.length === 0 ? 'none' : given.join(' and ')})`)
  if (args.text !== undefined) return Buffer.from(args.text, 'utf8')
  if (args.base64 !== undefined) {
    // Buffer.from would skip junk characters silently: the bytes stored must be the bytes meant.
    if (args.base64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(args.base64)) throw new InvalidArgumentError('base64 is not valid base64 (A–Z, a–z, 0–9, +, /, padded with =)')
    return Buffer.from(args.base64, 'base64')
  }
  if (nestedDeeperThan(args.json, MAX_JSON_DEPTH)) throw new InvalidArgumentError(`json is nested deeper than ${MAX_JSON_DEPTH} levels`)
  return Buffer.from(JSON.stringify(args.json), 'utf8')
}

/** Contract data is shallow; a deeper value is refused before encoders recurse into it (and overflow the stack). */
const MAX_JSON_DEPTH = 256

function nestedDeeperThan (value: unknown, limit: number): boolean {
  // Iterative, so the check itself cannot overflow the stack it protects.
  const stack: Array<[unknown, number]> = [[value, 0]]
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number]
    if (v == null || typeof v !== 'object') continue
    if (depth >= limit) return true
    for (const child of Object.values(v)) stack.push([child, depth + 1])
  }
  return false
}
