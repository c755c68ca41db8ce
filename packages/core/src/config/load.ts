/**
 * Reading and writing citrate.toml. The file is shared with the rest of Citrate,
 * so only the `[ipfs]` section is ours: other sections are left untouched, byte
 * for byte, when we write.
 */
import { readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { parse, stringify, TomlError } from 'smol-toml'
import { ConfigError } from '../errors.ts'
import { defaultCitrateHome } from '../platform.ts'
import { writeFileAtomic } from '../util/atomic-write.ts'
import { editIpfsSection } from './edit.ts'
import { citratePaths, type CitratePaths } from './paths.ts'
import { parseClusterConfig, parseRemotes, type ClusterConfig, type RemoteServiceConfig } from './fleet.ts'
import { defaultIpfsConfig, IPFS_KEYS, isIpfsKey, validateValue, validateWhole, type IpfsConfig } from './schema.ts'

export interface LoadConfigOptions {
  /** CITRATE_HOME; defaults to $CITRATE_HOME or ~/.citrate. */
  home?: string
  /** Another config file than $CITRATE_HOME/citrate.toml (the CLI's --config). */
  configFile?: string
  env?: NodeJS.ProcessEnv
}

export interface LoadedConfig {
  ipfs: IpfsConfig
  paths: CitratePaths
  /** Whether the file existed (defaults apply when it did not). */
  fileExists: boolean
  /** Keys that were set explicitly in the file. */
  explicitKeys: Array<keyof IpfsConfig>
  /** Non-fatal findings, e.g. unknown keys, for the caller to show. */
  warnings: string[]
  /** `[ipfs.cluster]`, when set (its secret stays in its file until a request needs it). */
  cluster?: ClusterConfig
  /** `[ipfs.remote.<name>]`: the pinning services, by name. */
  remotes?: Record<string, RemoteServiceConfig>
}

/** The sub-tables of `[ipfs]` that are not keys of IpfsConfig (config/fleet.ts reads them). */
const FLEET_TABLES = new Set(['cluster', 'remote'])

export async function loadConfig (opts: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const home = opts.home ?? defaultCitrateHome(opts.env)
  const configFile = opts.configFile ?? citratePaths(home).configFile
  const ipfs = defaultIpfsConfig(home)
  const warnings: string[] = []
  const explicitKeys: Array<keyof IpfsConfig> = []
  let text: string | undefined
  let cluster: ClusterConfig | undefined
  let remotes: Record<string, RemoteServiceConfig> = {}
  try {
    text = await readFile(configFile, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ConfigError(`cannot read ${configFile}: ${(err as Error).message}`, undefined, { cause: err })
    }
  }
  if (text !== undefined) {
    const section = parseIpfsSection(text, configFile)
    const baseDir = dirname(configFile)
    try {
      if (section.cluster !== undefined) cluster = parseClusterConfig(section.cluster)
      if (section.remote !== undefined) remotes = parseRemotes(section.remote)
    } catch (err) {
      if (err instanceof ConfigError) throw new ConfigError(`${configFile}: ${err.message}`, err.key)
      throw err
    }
    for (const [key, value] of Object.entries(section)) {
      if (FLEET_TABLES.has(key)) continue
      if (!isIpfsKey(key)) {
        warnings.push(`${configFile}: unknown key ipfs.${key} (ignored)`)
        continue
      }
      try {
        (ipfs as unknown as Record<string, unknown>)[key] = validateValue(key, value, baseDir)
      } catch (err) {
        if (err instanceof ConfigError) throw new ConfigError(`${configFile}: ${err.message}`, key)
        throw err
      }
      explicitKeys.push(key)
    }
    applyOfflineDefaults(ipfs, explicitKeys)
    try {
      validateWhole(ipfs)
    } catch (err) {
      throw new ConfigError(`${configFile}: ${(err as Error).message}`, (err as ConfigError).key)
    }
  }
  return {
    ipfs,
    paths: citratePaths(home, { configFile, modelsPath: ipfs.models_path }),
    fileExists: text !== undefined,
    explicitKeys,
    warnings,
    ...(cluster != null ? { cluster } : {}),
    remotes
  }
}

/**
 * `offline = true` means nothing beyond this machine is contacted unless the
 * user names it: the public fallback and public gateways default to none
 * (explicit values in the file still apply).
 */
function applyOfflineDefaults (ipfs: IpfsConfig, explicitKeys: ReadonlyArray<keyof IpfsConfig>): void {
  if (!ipfs.offline) return
  if (!explicitKeys.includes('fallback_gateway')) ipfs.fallback_gateway = ''
  if (!explicitKeys.includes('public_gateways')) ipfs.public_gateways = []
}

function parseIpfsSection (text: string, file: string): Record<string, unknown> {
  let doc: Record<string, unknown>
  try {
    doc = parse(text) as Record<string, unknown>
  } catch (err) {
    if (err instanceof TomlError) {
      throw new ConfigError(`${file} is not valid TOML (line ${err.line}, column ${err.column}): ${err.message.split('\n')[0] ?? ''}`, undefined, { cause: err })
    }
    throw err
  }
  const section = doc.ipfs
  if (section === undefined) return {}
  if (section === null || typeof section !== 'object' || Array.isArray(section)) {
    throw new ConfigError(`${file}: ipfs must be a table ([ipfs])`, undefined)
  }
  return section as Record<string, unknown>
}

/**
 * Sets keys of the `[ipfs]` section, validating each, and writes the file
 * atomically. Other sections, and the comments and layout inside `[ipfs]`, are
 * kept byte for byte: only the changed keys' lines are rewritten.
 */
export async function updateIpfsConfig (configFile: string, updates: Partial<Record<keyof IpfsConfig, unknown>>): Promise<void> {
  let text = ''
  try {
    text = await readFile(configFile, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const current = text === '' ? {} : parseIpfsSection(text, configFile)
  const baseDir = dirname(configFile)
  const next: Record<string, unknown> = { ...current }
  for (const [key, value] of Object.entries(updates)) {
    if (!isIpfsKey(key)) throw new ConfigError(`unknown key ipfs.${key}; known keys: ${IPFS_KEYS.join(', ')}`, key)
    const normalized = validateValue(key, value, baseDir)
    // Gateway URLs are stored normalised; paths keep their `~` so the file stays portable.
    next[key] = key === 'external_gateway' || key === 'fallback_gateway' || key === 'public_gateways' || key === 'dist_url' ? normalized : value
  }
  const merged = defaultIpfsConfig(baseDir)
  for (const [k, v] of Object.entries(next)) {
    if (isIpfsKey(k)) (merged as unknown as Record<string, unknown>)[k] = validateValue(k, v, baseDir)
  }
  validateWhole(merged)
  const changed = Object.fromEntries(Object.keys(updates).map(k => [k, next[k]]))
  await writeFileAtomic(configFile, editedOrRewritten(configFile, text, changed, next))
}

/**
 * The file with the changed keys edited in place (every other line kept), when
 * that edit reads back as exactly the intended document; else the `[ipfs]`
 * table rewritten whole (comments inside it are lost then, other tables kept).
 */
function editedOrRewritten (configFile: string, text: string, changed: Record<string, unknown>, next: Record<string, unknown>): string {
  const intended = plain({ ...(text === '' ? {} : parse(text) as Record<string, unknown>), ipfs: next })
  const readsBack = (candidate: string): boolean => {
    try {
      return isDeepStrictEqual(plain(parse(candidate)), intended)
    } catch {
      return false
    }
  }
  const edited = editIpfsSection(text, changed)
  if (edited !== undefined && readsBack(edited)) return edited
  // Root-level `ipfs.x = …` or `ipfs = { … }` next to an appended [ipfs] table is a TOML error elsewhere (the Rust app's reader), even where smol-toml lets it pass.
  const lines = text.split(/\r?\n/)
  const firstHeader = lines.findIndex(l => /^\s*\[/.test(l))
  const rootSpellsIpfs = lines.slice(0, firstHeader === -1 ? lines.length : firstHeader).some(l => /^\s*["']?ipfs["']?\s*[.=]/.test(l))
  const rewritten = replaceIpfsSection(text, stringify({ ipfs: next }))
  if (!rootSpellsIpfs && readsBack(rewritten)) return rewritten
  throw new ConfigError(`${configFile}: cannot change [ipfs] as it is written (e.g. an inline table ipfs = { … }); write it as an [ipfs] table`, undefined)
}

/** A parsed TOML value with ordinary prototypes (smol-toml's tables have none), for comparing. */
function plain (v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain)
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]))
  return v
}

/**
 * Edits the sub-tables `[ipfs.cluster]` and `[ipfs.remote.<name>]` (`null`
 * removes one), validating the result as loadConfig will, and writes the file
 * atomically; the rest of `[ipfs]` and other sections are kept.
 */
export async function updateFleetConfig (configFile: string, edit: { cluster?: Record<string, unknown> | null, remote?: Record<string, Record<string, unknown> | null> }): Promise<void> {
  let text = ''
  try {
    text = await readFile(configFile, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const next: Record<string, unknown> = { ...(text === '' ? {} : parseIpfsSection(text, configFile)) }
  if (edit.cluster === null) delete next.cluster
  else if (edit.cluster !== undefined) {
    parseClusterConfig(edit.cluster)
    next.cluster = edit.cluster
  }
  if (edit.remote !== undefined) {
    const remotes: Record<string, unknown> = { ...((next.remote as Record<string, unknown> | undefined) ?? {}) }
    for (const [name, t] of Object.entries(edit.remote)) {
      if (t === null) delete remotes[name]
      else remotes[name] = t
    }
    parseRemotes(remotes)
    if (Object.keys(remotes).length > 0) next.remote = remotes
    else delete next.remote
  }
  // Only the edited sub-tables are rewritten (comments elsewhere, [ipfs]'s own included, stay as they are);
  // a file where that does not read back as intended gets the [ipfs] table rewritten whole.
  const tables = new Map<string, Record<string, unknown> | null>()
  if (edit.cluster !== undefined) tables.set('cluster', edit.cluster === null ? null : next.cluster as Record<string, unknown>)
  for (const [name, t] of Object.entries(edit.remote ?? {})) tables.set(`remote.${name}`, t)
  const intended = plain({ ...(text === '' ? {} : parse(text) as Record<string, unknown>), ipfs: next })
  const edited = replaceIpfsSubTables(text, tables)
  let readsBack = false
  try {
    readsBack = isDeepStrictEqual(plain(parse(edited)), intended)
  } catch { /* not TOML: rewritten whole below */ }
  await writeFileAtomic(configFile, readsBack ? edited : replaceIpfsSection(text, stringify({ ipfs: next })))
}

/**
 * Replaces (or removes, for null) `[ipfs.<path>]` tables in a TOML text: each
 * old table's lines are dropped and the new one goes after the last line of
 * the `[ipfs]` family (or at the end); every other line is kept.
 */
function replaceIpfsSubTables (text: string, tables: ReadonlyMap<string, Record<string, unknown> | null>): string {
  const eol = text.includes('\r\n') ? '\r\n' : '\n'
  const lines = text === '' ? [] : text.split(/\r?\n/)
  const headerOf = (l: string): string | undefined => /^\s*\[\s*([^\]]+?)\s*\]\s*(#.*)?$/.exec(l)?.[1]?.replace(/\s*\.\s*/g, '.').replace(/["']/g, '')
  const out: string[] = []
  let skipping = false
  let familyEnd = -1
  let inFamily = false
  for (const line of lines) {
    const h = /^\s*\[/.test(line) ? headerOf(line) : undefined
    if (h !== undefined || /^\s*\[/.test(line)) {
      skipping = h !== undefined && h.startsWith('ipfs.') && tables.has(h.slice(5))
      inFamily = h === 'ipfs' || (h?.startsWith('ipfs.') ?? false)
    }
    if (skipping) continue
    out.push(line)
    if (inFamily && line.trim() !== '') familyEnd = out.length - 1
  }
  const blocks: string[] = []
  for (const [path, t] of tables) {
    if (t == null) continue
    blocks.push('', `[ipfs.${path}]`, ...stringify(t).trimEnd().split('\n'))
  }
  if (familyEnd === -1) {
    while (out.length > 0 && out[out.length - 1] === '') out.pop()
    if (blocks.length > 0 && out.length === 0) blocks.shift()
    out.push(...blocks)
  } else {
    out.splice(familyEnd + 1, 0, ...blocks)
  }
  const joined = out.join(eol)
  return joined.endsWith(eol) || joined === '' ? joined : joined + eol
}

/** Replaces the `[ipfs]` table in a TOML text (or appends one), keeping all else. */
export function replaceIpfsSection (text: string, ipfsToml: string): string {
  const lines = text.split(/\r?\n/)
  const isHeader = (l: string): boolean => /^\s*\[/.test(l)
  const isOurs = (l: string): boolean => /^\s*\[\s*ipfs\s*\]/.test(l) || /^\s*\[\s*ipfs\./.test(l)
  const out: string[] = []
  let inside = false
  let placed = false
  for (const line of lines) {
    if (isHeader(line)) {
      if (isOurs(line)) {
        inside = true
        if (!placed) {
          out.push(ipfsToml.trimEnd(), '')
          placed = true
        }
        continue
      }
      inside = false
    }
    if (!inside) out.push(line)
  }
  if (!placed) {
    while (out.length > 0 && out[out.length - 1] === '') out.pop()
    if (out.length > 0) out.push('')
    out.push(ipfsToml.trimEnd())
  }
  return out.join('\n').replace(/\n*$/, '\n')
}
