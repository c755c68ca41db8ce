import { stringify } from 'smol-toml'
import { CLUSTER_KEY_DOCS, clusterSecretFile, defaultIpfsConfig, InvalidArgumentError, IPFS_KEYS, remoteSecretFile, isIpfsKey, KEY_DOCS, loadConfig, normalizeGatewayUrl, updateIpfsConfig, type IpfsConfig } from '@citrate-ipfs/core'
import type { Context } from '../context.ts'
import { didYouMean } from '../suggest.ts'

export async function configShow (ctx: Context): Promise<void> {
  const { ipfs, paths, explicitKeys, fileExists } = ctx.config
  const lines = [
    `# ${paths.configFile}${fileExists ? '' : ' (not present: all defaults)'}`,
    `# CITRATE_HOME = ${paths.home}`,
    '[ipfs]'
  ]
  for (const key of IPFS_KEYS) {
    const value = stringify({ v: ipfs[key] }).replace(/^v = /, '').trim()
    lines.push(`${key} = ${value}${explicitKeys.includes(key) ? '' : '  # default'}  # ${KEY_DOCS[key]}`)
  }
  // The fleet's tables: what they say, and where the secrets are (never the secrets: they are not in the config at all).
  const { cluster, remotes = {} } = ctx.config
  if (cluster != null) {
    lines.push('', '[ipfs.cluster]')
    for (const [k, v] of Object.entries(cluster)) lines.push(`${k} = ${stringify({ v }).replace(/^v = /, '').trim()}  # ${CLUSTER_KEY_DOCS[k as keyof typeof CLUSTER_KEY_DOCS]}`)
    if (cluster.auth !== 'none') lines.push(`# ${cluster.auth === 'basic' ? 'password' : 'token'} = ******** (in ${clusterSecretFile(paths.home)}, mode 0600)`)
  }
  for (const r of Object.values(remotes)) {
    lines.push('', `[ipfs.remote.${r.name}]`, `endpoint = ${JSON.stringify(r.endpoint)}`, `timeout_seconds = ${r.timeout_seconds}`, `pin_timeout_seconds = ${r.pin_timeout_seconds}`, `# token = ******** (in ${remoteSecretFile(paths.home, r.name)}, if set)`)
  }
  ctx.out.result({ configFile: paths.configFile, home: paths.home, fileExists, ipfs, explicitKeys, cluster: cluster ?? null, remotes }, lines.join('\n'))
}

/** The seed's `ipfs_configure_gateway`: https only (http on loopback), stored as `external_gateway`; "" removes it. */
export async function gatewaySet (ctx: Context, url: string): Promise<void> {
  if (url === '') { await gatewayUnset(ctx); return }
  let normalized: string
  try {
    normalized = normalizeGatewayUrl(url)
  } catch (err) {
    throw new InvalidArgumentError(`gateway URL ${JSON.stringify(url)} ${(err as Error).message}`)
  }
  await updateIpfsConfig(ctx.config.paths.configFile, { external_gateway: normalized })
  ctx.out.result({ external_gateway: normalized, configFile: ctx.config.paths.configFile }, `external gateway set to ${normalized} (in ${ctx.config.paths.configFile})`)
}

export async function gatewayUnset (ctx: Context): Promise<void> {
  await updateIpfsConfig(ctx.config.paths.configFile, { external_gateway: '' })
  ctx.out.result({ external_gateway: '' }, 'external gateway removed')
}

/**
 * `config set <key> <value>`: one [ipfs] key, validated by core like the file
 * itself (a bad value names the key). The text is read by the key's default's
 * type: true/false, a number, a list as `a,b` or JSON (`""` or `[]`: empty),
 * else a string (`""` turns a gateway off).
 */
export async function configSet (ctx: Context, name: string, text: string): Promise<void> {
  const key = knownKey(name)
  const value = parseValue(key, text)
  await updateIpfsConfig(ctx.config.paths.configFile, { [key]: value })
  const after = await loadConfig({ home: ctx.config.paths.home, configFile: ctx.config.paths.configFile })
  const shown = after.ipfs[key]
  ctx.out.result({ key, value: shown, configFile: ctx.config.paths.configFile }, `ipfs.${key} = ${stringify({ v: shown }).replace(/^v = /, '').trim()} (in ${ctx.config.paths.configFile})`)
}

/**
 * `config get <key>`: the effective value (the file's, else the default), bare
 * so a script can use it: a string as it is, a list one item a line, else TOML.
 */
export async function configGet (ctx: Context, key: string): Promise<void> {
  const k = knownKey(key)
  const value = ctx.config.ipfs[k]
  const human = typeof value === 'string' ? value : Array.isArray(value) ? value.join('\n') : stringify({ v: value }).replace(/^v = /, '').trim()
  ctx.out.result({ key: k, value, default: !ctx.config.explicitKeys.includes(k), configFile: ctx.config.paths.configFile }, human)
}

/** The [ipfs] key named (`ipfs.` prefix allowed), or an error naming it with the closest known keys. */
function knownKey (key: string): keyof IpfsConfig {
  const bare = key.replace(/^ipfs\./, '')
  if (isIpfsKey(bare)) return bare
  const hint = didYouMean(bare, IPFS_KEYS)
  throw new InvalidArgumentError(`unknown config key "${key}"${hint !== '' ? hint : `; known keys: ${IPFS_KEYS.join(', ')}`}`)
}

function parseValue (key: keyof IpfsConfig, text: string): unknown {
  const example = defaultIpfsConfig('/')[key]
  if (typeof example === 'boolean') {
    if (text === 'true' || text === 'false') return text === 'true'
    throw new InvalidArgumentError(`ipfs.${key} takes true or false (got ${JSON.stringify(text)})`)
  }
  if (typeof example === 'number') {
    const n = Number(text)
    if (text.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`ipfs.${key} takes a number (got ${JSON.stringify(text)})`)
    return n
  }
  if (Array.isArray(example)) {
    if (text === '' || text === '[]') return []
    if (text.startsWith('[')) {
      try {
        return JSON.parse(text) as unknown
      } catch {
        throw new InvalidArgumentError(`ipfs.${key}: ${JSON.stringify(text)} is not a JSON list; write it as a,b or ["a","b"]`)
      }
    }
    return text.split(',')
  }
  return text
}
