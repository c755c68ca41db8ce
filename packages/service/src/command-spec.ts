/** What a command handler gets (the context) and is (its schemas plus `run`): one file, so command tables in several files share it. */
import type { LoadedConfig } from '@citrate-ipfs/core'
import type { COMMAND_SCHEMAS, CommandArgs, CommandName, CommandResult, ServiceEvent } from '@citrate-ipfs/contract'
import type { Downloads } from './downloads.ts'
import type { NodeSampler } from './node-stats.ts'

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
