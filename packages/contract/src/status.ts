/** The daemon as clients see it: its state, the status view and start/stop results. */
import { Type, type Static } from 'typebox'

export const DAEMON_STATES = ['NotInstalled', 'Stopped', 'Starting', 'Running', 'Error'] as const
/** The seed's daemon states. */
export const DaemonState = Type.Enum(DAEMON_STATES)
export type DaemonState = Static<typeof DaemonState>

/**
 * The status as the Citrate app reads it: the seed's `IPFSStatus`
 * (`installed`, `running`, `peerId`, `addresses`), the app's existing
 * `{connected, peerId}`, and the full state for anything richer.
 */
export const IpfsStatus = Type.Object({
  state: DaemonState,
  installed: Type.Boolean(),
  running: Type.Boolean(),
  connected: Type.Boolean(),
  peerId: Type.Optional(Type.String()),
  addresses: Type.Optional(Type.Array(Type.String())),
  apiUrl: Type.Optional(Type.String()),
  gatewayUrl: Type.Optional(Type.String()),
  kuboVersion: Type.Optional(Type.String()),
  /**
   * Set while running: whether kubo's RPC refuses calls without the install's
   * secret. False for a daemon someone else started without it (adopted as it
   * is): its admin-level RPC is then open to every program on this machine.
   */
  rpcProtected: Type.Optional(Type.Boolean()),
  pid: Type.Optional(Type.Integer()),
  /** Set in state Error: why, with the end of kubo's log. */
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String(), logTail: Type.String() })),
  /** Set in state NotInstalled: what to do about it. */
  message: Type.Optional(Type.String())
})
export type IpfsStatus = Static<typeof IpfsStatus>

export const StartDaemonResult = Type.Object({
  ...IpfsStatus.properties,
  /** True when a daemon already running on this repo was used instead of starting one. */
  adopted: Type.Boolean()
})
export type StartDaemonResult = Static<typeof StartDaemonResult>

export const StopDaemonResult = Type.Object({
  /** False when nothing was running. */
  wasRunning: Type.Boolean(),
  /** How it ended: through the RPC shutdown, or by signal. */
  method: Type.Optional(Type.Enum(['rpc', 'SIGTERM', 'SIGKILL']))
})
export type StopDaemonResult = Static<typeof StopDaemonResult>

/** Progress of a daemon start (best-effort, for display). */
export const DaemonProgressEvent = Type.Union([
  Type.Object({ type: Type.Literal('citrate:daemon:init'), repo: Type.String() }),
  Type.Object({ type: Type.Literal('citrate:daemon:spawn'), pid: Type.Integer(), logPath: Type.String() }),
  Type.Object({ type: Type.Literal('citrate:daemon:adopted'), apiUrl: Type.String() }),
  Type.Object({ type: Type.Literal('citrate:daemon:ready'), apiUrl: Type.String(), elapsedMs: Type.Number() })
])
export type DaemonProgressEvent = Static<typeof DaemonProgressEvent>

/** The gateway keys of the [ipfs] configuration. */
export const GatewayConfig = Type.Object({
  external_gateway: Type.String(),
  fallback_gateway: Type.String(),
  use_external_by_default: Type.Boolean()
})
export type GatewayConfig = Static<typeof GatewayConfig>

/** One [ipfs] key as a settings screen explains it. */
export const ConfigKeyDoc = Type.Object({
  key: Type.String(),
  /** What it does, in a line (core's KEY_DOCS). */
  description: Type.String(),
  /** Takes effect only when the daemon is (re)started, or for init_profiles when its repo is created. */
  restart: Type.Boolean()
})
export type ConfigKeyDoc = Static<typeof ConfigKeyDoc>

export const ConfigView = Type.Object({
  configFile: Type.String(),
  home: Type.String(),
  /** The effective [ipfs] table, key by key as in citrate.toml. */
  ipfs: Type.Record(Type.String(), Type.Unknown()),
  /** Every [ipfs] key, in citrate.toml's order, with its explanation. */
  keys: Type.Optional(Type.Array(ConfigKeyDoc))
})
export type ConfigView = Static<typeof ConfigView>
