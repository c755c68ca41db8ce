/**
 * Every command of the service under its seed name: a summary, the schema of
 * its arguments and the schema of its result. The service validates arguments
 * with these and publishes them in OpenAPI; `CommandMap` gives clients the
 * same shapes as TypeScript types, so neither side can drift from the other.
 */
import { Type, type Static, type TObject, type TProperties, type TSchema } from 'typebox'
import { DownloadSourceMode, DownloadView } from './download.ts'
import { InstallResult } from './install.ts'
import { ModelEntry, ModelKind, RemoveModelResult, VerifyOutcome } from './model.ts'
import { PinResult, PinView, UnpinResult } from './pins.ts'
import { NodeStats } from './node.ts'
import { PublishView } from './publish.ts'
import { ConfigView, GatewayConfig, IpfsStatus, StartDaemonResult, StopDaemonResult } from './status.ts'
import { OBJECT_CODECS, OBJECT_KINDS } from './vocab.ts'

export interface CommandSchema {
  summary: string
  /** Arguments are an object that admits no unknown keys, so a typo fails loudly instead of being ignored. */
  args: TObject
  result: TSchema
  /** A larger request body than the service's default 64 KiB (only commands that carry data: ipfs_put). */
  maxBodyBytes?: number
}

/** Arguments are closed: an unknown key is a caller's mistake worth a 400. */
const args = <P extends TProperties>(properties: P) => Type.Object(properties, { additionalProperties: false })

const NoArgs = args({})
/** Long enough for any CID in use (a CIDv1 of a 512-bit hash in base32 is about 110 characters), short enough to reject junk. */
const CidArg = Type.String({ minLength: 1, maxLength: 200 })
/** What a download may name: a CID, or a path inside one in any pasted form (`<cid>/a/b.gguf`, `ipfs://…`, gateway links). */
const ContentPathArg = Type.String({ minLength: 1, maxLength: 4096 })
const IdArgs = args({ id: Type.String({ minLength: 1, maxLength: 200 }) })

/** `ipfs_get` answers at most this much by default (and `maxBytes` may raise it to OBJECT_GET_MAX_BYTES). */
export const OBJECT_GET_DEFAULT_BYTES = 16 * 1024 * 1024
export const OBJECT_GET_MAX_BYTES = 32 * 1024 * 1024
/** `ipfs_put` takes at most this many bytes of data (one block's limit); its body may be up to OBJECT_PUT_MAX_BODY (base64 grows by 4/3). */
export const OBJECT_PUT_MAX_BYTES = 2 * 1024 * 1024
export const OBJECT_PUT_MAX_BODY = 4 * 1024 * 1024

export const ObjectCodec = Type.Enum(OBJECT_CODECS)
export type ObjectCodec = Static<typeof ObjectCodec>
export const ObjectKind = Type.Enum(OBJECT_KINDS)
export type ObjectKind = Static<typeof ObjectKind>

export const ObjectGetResult = Type.Object({
  root: Type.String({ description: 'the CID asked for' }),
  path: Type.String({ description: 'the path below it ("" for the root)' }),
  cid: Type.String({ description: 'the CID the path leads to' }),
  kind: ObjectKind,
  size: Type.Integer({ minimum: 0, description: 'bytes of the file or block; for a node, of its dag-json text' }),
  json: Type.Optional(Type.Unknown({ description: 'dag-cbor / dag-json: the value as dag-json (links {"/": cid}, bytes {"/": {"bytes": base64}})' })),
  base64: Type.Optional(Type.String({ description: 'file / raw: the bytes, base64' }))
})

export const ObjectPutResult = Type.Object({
  cid: Type.String(),
  url: Type.String({ description: 'ipfs://<cid>' }),
  codec: ObjectCodec,
  size: Type.Integer({ minimum: 0, description: 'bytes of the input' }),
  pinned: Type.Boolean()
})
export type ObjectGetResult = Static<typeof ObjectGetResult>
export type ObjectPutResult = Static<typeof ObjectPutResult>

export const COMMAND_SCHEMAS = {
  ipfs_check_status: {
    summary: 'Whether kubo is installed and running, with peer id and addresses',
    args: NoArgs,
    result: IpfsStatus
  },
  ipfs_install: {
    summary: 'Download, verify (sha512) and install kubo into $CITRATE_HOME/bin; progress as install-progress events',
    args: args({ version: Type.Optional(Type.String({ pattern: '^(latest|v?\\d+\\.\\d+\\.\\d+(-[0-9A-Za-z.-]+)?)$' })) }),
    result: InstallResult
  },
  ipfs_start_daemon: {
    summary: 'Start kubo, or adopt the daemon already running on this repo',
    args: NoArgs,
    result: StartDaemonResult
  },
  ipfs_stop_daemon: {
    summary: 'Stop kubo: RPC shutdown, then SIGTERM, then SIGKILL after timeouts',
    args: NoArgs,
    result: StopDaemonResult
  },
  ipfs_configure_gateway: {
    summary: 'Set external_gateway (https, or http on loopback; "" removes it), and fallback_gateway when fallback is given ("" turns the public fallback off)',
    args: args({ url: Type.String({ maxLength: 2048 }), fallback: Type.Optional(Type.String({ maxLength: 2048 })) }),
    result: GatewayConfig
  },
  ipfs_get_config: {
    summary: 'The effective [ipfs] configuration',
    args: NoArgs,
    result: ConfigView
  },
  ipfs_set_config: {
    summary: 'Change [ipfs] keys of citrate.toml: every value validated (an error names the key), written atomically, other sections kept as they are',
    args: args({ values: Type.Record(Type.String({ minLength: 1, maxLength: 64 }), Type.Unknown(), { minProperties: 1, maxProperties: 64 }) }),
    result: Type.Object({
      ...ConfigView.properties,
      /** The keys whose value changed. */
      changed: Type.Array(Type.String()),
      /** Changed keys that take effect only after the daemon restarts (Stop and Start IPFS on the Setup page). */
      restartNeeded: Type.Array(Type.String())
    })
  },
  ipfs_download_model: {
    summary: 'Start a verified download by CID or content path (<cid>/a/b.gguf, /ipfs/…, ipfs://…, gateway links) (daemon, then gateways); returns at once, progress as download-progress events',
    args: args({
      cid: ContentPathArg,
      name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
      filename: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
      kind: Type.Optional(ModelKind),
      source: Type.Optional(DownloadSourceMode)
    }),
    result: DownloadView
  },
  ipfs_list_downloads: {
    summary: 'Downloads started by this service, with their latest progress',
    args: NoArgs,
    result: Type.Object({ downloads: Type.Array(DownloadView) })
  },
  ipfs_pause_download: {
    summary: 'Pause a download (verified data is kept)',
    args: IdArgs,
    result: DownloadView
  },
  ipfs_resume_download: {
    summary: 'Resume a paused download',
    args: IdArgs,
    result: DownloadView
  },
  ipfs_cancel_download: {
    summary: 'Cancel a download and discard its partial data',
    args: IdArgs,
    result: DownloadView
  },
  ipfs_retry_download: {
    summary: 'Start a failed or cancelled download again with the same arguments (verified data already on disk is kept)',
    args: IdArgs,
    result: DownloadView
  },
  ipfs_dismiss_download: {
    summary: 'Forget a finished, failed or cancelled download, so ipfs_list_downloads no longer returns it',
    args: IdArgs,
    result: Type.Object({ id: Type.String(), dismissed: Type.Boolean() })
  },
  ipfs_set_download_limit: {
    summary: 'Set the download bandwidth cap in MB/s (0: none) for the total of this service\'s downloads, running and future',
    args: args({ mbps: Type.Number({ minimum: 0, maximum: 1e6 }) }),
    result: Type.Object({ mbps: Type.Number() })
  },
  ipfs_list_models: {
    summary: 'The local model registry (models/registry.json)',
    args: NoArgs,
    result: Type.Object({
      models: Type.Array(ModelEntry),
      /** Bytes the entries' folders and content take on disk, each file once. */
      total_disk_bytes: Type.Optional(Type.Integer({ minimum: 0 }))
    })
  },
  ipfs_verify_model: {
    summary: 'Re-verify a stored model against its CID without a daemon; marks it unverified on bit rot',
    args: IdArgs,
    result: VerifyOutcome
  },
  ipfs_remove_model: {
    summary: 'Remove a model: unpin it (unless keepPin), drop its registry entry, delete its folder',
    args: args({ id: Type.String({ minLength: 1 }), keepPin: Type.Optional(Type.Boolean()) }),
    result: RemoveModelResult
  },
  ipfs_pin: {
    summary: 'Pin a CID in the local daemon (pin_timeout_seconds applies); progress as pin-progress events',
    args: args({ cid: CidArg, name: Type.Optional(Type.String({ maxLength: 200 })) }),
    result: PinResult
  },
  ipfs_unpin: {
    summary: 'Unpin a CID; content a registry model relies on needs force',
    args: args({ cid: CidArg, force: Type.Optional(Type.Boolean()) }),
    result: UnpinResult
  },
  ipfs_get: {
    summary: 'Read a UnixFS file, raw block or dag-cbor / dag-json node by <cid>[/path] (also /ipfs/… and ipfs://…), every block verified, from the same sources as a download; refused past maxBytes (default 16 MiB)',
    args: args({
      cid: Type.String({ minLength: 1, maxLength: 4096, description: '<cid>[/path]' }),
      maxBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: OBJECT_GET_MAX_BYTES })),
      source: Type.Optional(DownloadSourceMode)
    }),
    result: ObjectGetResult
  },
  ipfs_put: {
    summary: 'Store data under the CID kubo gives it (raw = block put, dag-json / dag-cbor = dag put of dag-json input, unixfs = add; default unixfs) in the local daemon, pinned unless pin is false; at most 2 MiB',
    args: args({
      codec: Type.Optional(ObjectCodec),
      json: Type.Optional(Type.Unknown({ description: 'a value to store (for dag codecs: dag-json, links as {"/": cid}); stored as its JSON text for raw / unixfs' })),
      text: Type.Optional(Type.String({ description: 'UTF-8 text to store' })),
      base64: Type.Optional(Type.String({ maxLength: OBJECT_PUT_MAX_BODY, description: 'bytes to store, base64' })),
      pin: Type.Optional(Type.Boolean())
    }),
    result: ObjectPutResult,
    maxBodyBytes: OBJECT_PUT_MAX_BODY
  },
  ipfs_get_pins: {
    summary: 'Recursive pins of the local daemon, with their names and the registry models each backs',
    args: NoArgs,
    result: Type.Object({ pins: Type.Array(PinView) })
  },
  ipfs_add: {
    summary: 'Publish a file or folder of this machine (an absolute path) to the local daemon, pinned: the CID `ipfs add` gives; progress as publish-progress events',
    args: args({ path: Type.String({ minLength: 1, maxLength: 4096 }), name: Type.Optional(Type.String({ maxLength: 200 })) }),
    result: PublishView
  },
  ipfs_node_stats: {
    summary: 'The node at a glance: peers, repo size, free disk, kubo bandwidth (stats/bw, sampled per call into a short history) and the daemon log tail',
    args: args({ log_lines: Type.Optional(Type.Integer({ minimum: 0, maximum: 500 })) }),
    result: NodeStats
  }
} satisfies Record<string, CommandSchema>

export type CommandName = keyof typeof COMMAND_SCHEMAS

/** Commands without arguments take `{}` and nothing else (TypeScript's `{}` would admit any object). */
type ArgsOf<S extends TSchema> = keyof Static<S> extends never ? Record<string, never> : Static<S>

/** Each command's arguments and result as TypeScript types, derived from the schemas above. */
export type CommandMap = {
  [C in CommandName]: { args: ArgsOf<typeof COMMAND_SCHEMAS[C]['args']>, result: Static<typeof COMMAND_SCHEMAS[C]['result']> }
}
export type CommandArgs<C extends CommandName> = CommandMap[C]['args']
export type CommandResult<C extends CommandName> = CommandMap[C]['result']
