/** What every command needs: the loaded config and the output channel. */
import { loadConfig, type LoadedConfig } from '@citrate-ipfs/core'
import { Output } from './output.ts'

export interface GlobalOptions {
  json?: boolean
  config?: string
}

export interface Context {
  out: Output
  config: LoadedConfig
}

export async function makeContext (opts: GlobalOptions): Promise<Context> {
  const out = new Output(opts.json === true)
  const config = await loadConfig({ configFile: opts.config })
  for (const w of config.warnings) out.warn(w)
  return { out, config }
}
