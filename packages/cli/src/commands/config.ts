import { stringify } from 'smol-toml'
import { InvalidArgumentError, IPFS_KEYS, KEY_DOCS, normalizeGatewayUrl, updateIpfsConfig } from '@citrate-ipfs/core'
import type { Context } from '../context.ts'

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
  ctx.out.result({ configFile: paths.configFile, home: paths.home, fileExists, ipfs, explicitKeys }, lines.join('\n'))
}

/** The seed's `ipfs_configure_gateway`: https only (http on loopback), stored as `external_gateway`. */
export async function gatewaySet (ctx: Context, url: string): Promise<void> {
  let normalized: string
  try {
    normalized = normalizeGatewayUrl(url)
  } catch (err) {
    throw new InvalidArgumentError(`gateway: ${(err as Error).message}`)
  }
  await updateIpfsConfig(ctx.config.paths.configFile, { external_gateway: normalized })
  ctx.out.result({ external_gateway: normalized, configFile: ctx.config.paths.configFile }, `external gateway set to ${normalized} (in ${ctx.config.paths.configFile})`)
}

export async function gatewayUnset (ctx: Context): Promise<void> {
  await updateIpfsConfig(ctx.config.paths.configFile, { external_gateway: '' })
  ctx.out.result({ external_gateway: '' }, 'external gateway removed')
}
