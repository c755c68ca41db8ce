/**
 * The [ipfs] settings as a settings screen needs them: every key with core's
 * explanation and whether it takes effect only on a daemon (re)start; and
 * changes written through core's `updateIpfsConfig`, which validates every
 * value (an error names the key and the value) and replaces the [ipfs] table
 * atomically, keeping every other section of citrate.toml as it was.
 */
import { IPFS_KEYS, KEY_DOCS, updateIpfsConfig, type IpfsConfig, type LoadedConfig } from '@citrate-ipfs/core'
import type { ConfigKeyDoc, ConfigView } from '@citrate-ipfs/contract'

/**
 * Keys kubo reads when it starts (its ports, offline routing, which binary),
 * or that apply when a repo is created (init_profiles): a running daemon
 * keeps the old values until it is stopped and started again. Every other key
 * is read per operation (the service re-reads the config on each call).
 */
const RESTART_KEYS: ReadonlySet<keyof IpfsConfig> = new Set(['api_port', 'gateway_port', 'offline', 'daemon_path', 'init_profiles'])

export const CONFIG_KEY_DOCS: ConfigKeyDoc[] = IPFS_KEYS.map(key => ({ key, description: KEY_DOCS[key], restart: RESTART_KEYS.has(key) }))

export function configView (cfg: LoadedConfig): ConfigView {
  return { configFile: cfg.paths.configFile, home: cfg.paths.home, ipfs: { ...cfg.ipfs }, keys: CONFIG_KEY_DOCS }
}

/** Writes `values` (validated by core), then reads the config back; says which keys changed and which of those need a restart. */
export async function setIpfsConfig (config: () => Promise<LoadedConfig>, values: Record<string, unknown>): Promise<ConfigView & { changed: string[], restartNeeded: string[] }> {
  const before = await config()
  await updateIpfsConfig(before.paths.configFile, values)
  const after = await config()
  const was = before.ipfs as unknown as Record<string, unknown>
  const now = after.ipfs as unknown as Record<string, unknown>
  const changed = Object.keys(values).filter(k => JSON.stringify(was[k]) !== JSON.stringify(now[k]))
  return { ...configView(after), changed, restartNeeded: changed.filter(k => RESTART_KEYS.has(k as keyof IpfsConfig)) }
}
