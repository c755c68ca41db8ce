/** What every command needs: the loaded config and the output channel. */
import { loadConfig, type LoadedConfig } from '@citrate-ipfs/core'
import { Output } from './output.ts'

export interface GlobalOptions {
  json?: boolean
  config?: string
  verbose?: boolean
}

export interface Context {
  out: Output
  config: LoadedConfig
  /** --verbose: explain on stderr (the core's debug log, and commands' own detail). */
  verbose: boolean
}

export async function makeContext (opts: GlobalOptions): Promise<Context> {
  const out = new Output(opts.json === true)
  const config = await loadConfig({ configFile: opts.config })
  for (const w of config.warnings) out.warn(w)
  return { out, config, verbose: opts.verbose === true }
}
