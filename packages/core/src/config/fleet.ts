/**
 * Beyond one machine: `[ipfs.cluster]` (an IPFS Cluster's REST API) and
 * `[ipfs.remote.<name>]` (Pinning Service API endpoints) in citrate.toml, and
 * their secrets.
 *
 * citrate.toml is shared with the rest of Citrate and is shown by `config
 * show`, so it holds no secret: a cluster password or token and a pinning
 * service's access token live in `$CITRATE_HOME/secrets/` (folder 0700, files
 * 0600, written atomically), read only when a request is about to be made.
 * The TOML records which kind of credential there is (`auth`), so it can be
 * described without being read.
 */
import { chmod, mkdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { ConfigError } from '../errors.ts'
import { writeFileAtomic } from '../util/atomic-write.ts'
import { normalizeGatewayUrl } from './url.ts'

export type ClusterAuth = 'none' | 'basic' | 'bearer'

export interface ClusterConfig {
  /** The REST API, e.g. http://127.0.0.1:9094 (https unless on this machine). */
  url: string
  auth: ClusterAuth
  /** The basic-auth user (auth = "basic"); the password is in the secrets folder. */
  username?: string
  /** Default replication factors of a pin (0: the cluster's own defaults; -1: every peer). */
  replication_min: number
  replication_max: number
  /** One REST call's timeout, seconds. */
  timeout_seconds: number
  /** How long `cluster pin` follows the peers before it reports the replicas missing, seconds. */
  pin_timeout_seconds: number
}

export interface RemoteServiceConfig {
  name: string
  /** The Pinning Service API base URL (…/pins is appended). */
  endpoint: string
  /** One request's timeout, seconds. */
  timeout_seconds: number
  /** How long `remote pin add` waits for `pinned`, seconds. */
  pin_timeout_seconds: number
}

export interface FleetConfig {
  cluster?: ClusterConfig
  remotes: Record<string, RemoteServiceConfig>
}

export const CLUSTER_KEY_DOCS: Record<keyof ClusterConfig, string> = {
  url: "the IPFS Cluster REST API (a peer's api.restapi address)",
  auth: 'none, basic (username + password) or bearer (token); the secret is in $CITRATE_HOME/secrets/cluster.json (0600)',
  username: 'basic-auth user',
  replication_min: 'default replication_min of a cluster pin (0: the cluster default; -1: every peer)',
  replication_max: 'default replication_max of a cluster pin (0: the cluster default; -1: every peer)',
  timeout_seconds: 'timeout of one REST call',
  pin_timeout_seconds: 'how long `cluster pin` waits for replication_min peers to pin'
}

const DEFAULT_TIMEOUT_SECONDS = 30
const DEFAULT_PIN_TIMEOUT_SECONDS = 600

/** A service name: it names a file and a TOML table, so it is kept plain. */
export const REMOTE_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/i

export function checkRemoteName (name: string): string {
  if (!REMOTE_NAME_RE.test(name)) throw new ConfigError(`pinning service name ${JSON.stringify(name)} is invalid: use letters, digits, _ and - (at most 63, starting with a letter or digit)`, 'remote')
  return name
}

/** A cluster or service URL: https, or http on this machine (a password or token must not cross a network in the clear). */
export function normalizeServiceUrl (what: string, value: unknown): string {
  if (typeof value !== 'string') throw new ConfigError(`${what} = ${JSON.stringify(value)} is invalid: expected a URL string`, what)
  try {
    return normalizeGatewayUrl(value)
  } catch (err) {
    throw new ConfigError(`${what} = ${JSON.stringify(value)} is invalid: URL ${(err as Error).message}`, what)
  }
}

function num (what: string, value: unknown, fallback: number, check: (n: number) => boolean, expected: string): number {
  if (value === undefined) return fallback
  const n = typeof value === 'bigint' ? Number(value) : value
  if (typeof n !== 'number' || !Number.isFinite(n) || !check(n)) throw new ConfigError(`${what} = ${JSON.stringify(typeof value === 'bigint' ? Number(value) : value)} is invalid: expected ${expected}`, what)
  return n
}

const replication = (what: string, v: unknown): number => num(what, v, 0, n => Number.isInteger(n) && n >= -1, 'an integer of -1 (every peer), 0 (the cluster default) or more')
const positive = (what: string, v: unknown, d: number): number => num(what, v, d, n => n > 0, 'a number of seconds greater than 0')

function table (what: string, value: unknown): Record<string, unknown> {
  if (value == null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`${what} must be a table ([${what}])`, what)
  return value as Record<string, unknown>
}

/** Validates `[ipfs.cluster]`. */
export function parseClusterConfig (raw: unknown): ClusterConfig {
  const t = table('ipfs.cluster', raw)
  const known = new Set(Object.keys(CLUSTER_KEY_DOCS))
  for (const k of Object.keys(t)) if (!known.has(k)) throw new ConfigError(`unknown key ipfs.cluster.${k}; known keys: ${[...known].join(', ')}`, `cluster.${k}`)
  const auth = t.auth ?? (t.username != null ? 'basic' : 'none')
  if (auth !== 'none' && auth !== 'basic' && auth !== 'bearer') throw new ConfigError(`ipfs.cluster.auth = ${JSON.stringify(auth)} is invalid: expected "none", "basic" or "bearer"`, 'cluster.auth')
  if (auth === 'basic' && (typeof t.username !== 'string' || t.username === '' || t.username.includes(':'))) {
    throw new ConfigError('ipfs.cluster.username is invalid: basic auth needs a user name without ":"', 'cluster.username')
  }
  const cfg: ClusterConfig = {
    url: normalizeServiceUrl('ipfs.cluster.url', t.url),
    auth,
    replication_min: replication('ipfs.cluster.replication_min', t.replication_min),
    replication_max: replication('ipfs.cluster.replication_max', t.replication_max),
    timeout_seconds: positive('ipfs.cluster.timeout_seconds', t.timeout_seconds, DEFAULT_TIMEOUT_SECONDS),
    pin_timeout_seconds: positive('ipfs.cluster.pin_timeout_seconds', t.pin_timeout_seconds, DEFAULT_PIN_TIMEOUT_SECONDS)
  }
  if (auth === 'basic') cfg.username = t.username as string
  checkReplication(cfg.replication_min, cfg.replication_max, 'ipfs.cluster.replication_min')
  return cfg
}

/** min ≤ max unless either is a special value (0: default, -1: everywhere). */
export function checkReplication (min: number, max: number, what: string): void {
  if (min > 0 && max > 0 && min > max) throw new ConfigError(`${what}: replication_min (${min}) is larger than replication_max (${max})`, what)
  if (min === -1 && max > 0) throw new ConfigError(`${what}: replication_min -1 (every peer) needs replication_max -1 too (got ${max})`, what)
}

/** Validates `[ipfs.remote.<name>]` tables. */
export function parseRemotes (raw: unknown): Record<string, RemoteServiceConfig> {
  const t = table('ipfs.remote', raw)
  const out: Record<string, RemoteServiceConfig> = {}
  for (const [name, v] of Object.entries(t)) {
    checkRemoteName(name)
    const s = table(`ipfs.remote.${name}`, v)
    for (const k of Object.keys(s)) {
      if (!['endpoint', 'timeout_seconds', 'pin_timeout_seconds'].includes(k)) throw new ConfigError(`unknown key ipfs.remote.${name}.${k}; known keys: endpoint, timeout_seconds, pin_timeout_seconds`, `remote.${name}.${k}`)
    }
    out[name] = {
      name,
      endpoint: normalizeServiceUrl(`ipfs.remote.${name}.endpoint`, s.endpoint),
      timeout_seconds: positive(`ipfs.remote.${name}.timeout_seconds`, s.timeout_seconds, DEFAULT_TIMEOUT_SECONDS),
      pin_timeout_seconds: positive(`ipfs.remote.${name}.pin_timeout_seconds`, s.pin_timeout_seconds, DEFAULT_PIN_TIMEOUT_SECONDS)
    }
  }
  return out
}

/** The TOML tables for a cluster config (what `cluster connect` writes): no secret in it. */
export function clusterToToml (cfg: ClusterConfig): Record<string, unknown> {
  const t: Record<string, unknown> = { url: cfg.url, auth: cfg.auth }
  if (cfg.username != null) t.username = cfg.username
  t.replication_min = cfg.replication_min
  t.replication_max = cfg.replication_max
  t.timeout_seconds = cfg.timeout_seconds
  t.pin_timeout_seconds = cfg.pin_timeout_seconds
  return t
}

// -- secrets --

export interface ClusterSecret { password?: string, token?: string }
export interface RemoteSecret { token: string }

export function secretsDir (home: string): string {
  return join(home, 'secrets')
}

export function clusterSecretFile (home: string): string {
  return join(secretsDir(home), 'cluster.json')
}

export function remoteSecretFile (home: string, name: string): string {
  return join(secretsDir(home), `remote-${checkRemoteName(name)}.json`)
}

/** Writes a secret file: the folder 0700, the file 0600 from its first byte (never world-readable, even briefly). */
export async function writeSecretFile (file: string, value: object): Promise<void> {
  const dir = join(file, '..')
  await mkdir(dir, { recursive: true, mode: 0o700 })
  if (process.platform !== 'win32') await chmod(dir, 0o700)
  await writeFileAtomic(file, JSON.stringify(value) + '\n', { mode: 0o600 })
}

export async function removeSecretFile (file: string): Promise<void> {
  await rm(file, { force: true })
}

export async function readSecretFile<T> (file: string): Promise<T | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new ConfigError(`cannot read the secret file ${file}: ${(err as Error).message}`, undefined, { cause: err })
  }
  try {
    return JSON.parse(text) as T
  } catch (err) {
    throw new ConfigError(`the secret file ${file} is not valid JSON; write the credential again`, undefined, { cause: err })
  }
}

/** The header a credential becomes. */
export function authorizationHeader (auth: ClusterAuth, username: string | undefined, secret: ClusterSecret | undefined): string | undefined {
  if (auth === 'basic') return `Basic ${Buffer.from(`${username ?? ''}:${secret?.password ?? ''}`).toString('base64')}`
  if (auth === 'bearer') return `Bearer ${secret?.token ?? ''}`
  return undefined
}
