/**
 * kubo's repo under CITRATE_HOME: creating it and keeping its config in line with
 * citrate.toml (loopback-only API and gateway on the configured ports, the RPC
 * locked with our secret; with `offline`, nothing that would reach the network).
 */
import { execFile } from 'node:child_process'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { IpfsConfig } from '../config/schema.ts'
import { DaemonStartError, KuboRepoConfigError } from '../errors.ts'
import { writeFileAtomic } from '../util/atomic-write.ts'
import { RPC_AUTHORIZATION_NAME, rpcAuthorization } from './rpc-secret.ts'

const execFileAsync = promisify(execFile)


export function kuboEnv (repo: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  // Telemetry is off: a desktop app must not report home without asking.
  return { ...env, IPFS_PATH: repo, IPFS_TELEMETRY: 'off' }
}

export async function repoExists (repo: string): Promise<boolean> {
  try {
    await stat(join(repo, 'config'))
    return true
  } catch {
    return false
  }
}

export async function initRepo (binary: string, repo: string, profiles: string[], env?: NodeJS.ProcessEnv): Promise<void> {
  const args = ['init', '--empty-repo']
  if (profiles.length > 0) args.push(`--profile=${profiles.join(',')}`)
  try {
    await execFileAsync(binary, args, { env: kuboEnv(repo, env), timeout: 60_000 })
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? '').trim()
    throw new DaemonStartError(`ipfs init failed for ${repo}: ${stderr !== '' ? stderr.split('\n').pop() : (err as Error).message}`, stderr, { cause: err })
  }
}

export interface RepoConfigDoc {
  Identity?: { PeerID?: string }
  Addresses?: { API?: string | string[], Gateway?: string | string[], Swarm?: string[] }
  API?: { Authorizations?: Record<string, { AuthSecret?: string, AllowedPaths?: string[] } | null> | null, [key: string]: unknown }
  [key: string]: unknown
}

export async function readRepoConfig (repo: string): Promise<RepoConfigDoc> {
  const file = join(repo, 'config')
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new KuboRepoConfigError(file, (err as Error).message, { cause: err })
  }
  try {
    const doc = JSON.parse(text) as unknown
    if (doc == null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error('not a JSON object')
    return doc as RepoConfigDoc
  } catch (err) {
    throw new KuboRepoConfigError(file, `not valid JSON: ${(err as Error).message}`, { cause: err })
  }
}

/** The peer id recorded in the repo, used to tell our daemon from anyone else's. */
export async function repoPeerId (repo: string): Promise<string | undefined> {
  try {
    return (await readRepoConfig(repo)).Identity?.PeerID
  } catch {
    return undefined
  }
}

/**
 * Brings the repo config in line with citrate.toml and locks the RPC with
 * `rpcSecret` (our entry in `API.Authorizations`; anyone else's entries are
 * kept). This runs at every start while the daemon is down, so a repo made
 * before the RPC was locked is locked at its next start. Only writes when
 * something changed; never while the daemon runs (the caller checks).
 */
export async function applyRepoSettings (repo: string, cfg: IpfsConfig, rpcSecret: string): Promise<boolean> {
  const doc = await readRepoConfig(repo)
  const before = JSON.stringify(doc)
  const obj = (parent: Record<string, unknown>, key: string): Record<string, unknown> => {
    const v = parent[key]
    if (v == null || typeof v !== 'object' || Array.isArray(v)) parent[key] = {}
    return parent[key] as Record<string, unknown>
  }
  const addresses = obj(doc, 'Addresses')
  addresses.API = `/ip4/127.0.0.1/tcp/${cfg.api_port}`
  addresses.Gateway = `/ip4/127.0.0.1/tcp/${cfg.gateway_port}`
  obj(obj(doc, 'API'), 'Authorizations')[RPC_AUTHORIZATION_NAME] = rpcAuthorization(rpcSecret)
  if (cfg.offline) {
    // Nothing may reach beyond this machine: no bootstrap, no discovery, no
    // routing, no remote auto-configuration or certificate registration.
    doc.Bootstrap = []
    obj(doc, 'AutoConf').Enabled = false
    obj(doc, 'AutoTLS').Enabled = false
    obj(obj(doc, 'Discovery'), 'MDNS').Enabled = false
    const routing = obj(doc, 'Routing')
    routing.Type = 'none'
    routing.DelegatedRouters = []
    obj(doc, 'Ipns').DelegatedPublishers = []
    obj(doc, 'DNS').Resolvers = {}
    addresses.Swarm = (Array.isArray(addresses.Swarm) ? addresses.Swarm : []).filter(a => /^\/ip[46]\/(127\.|::1\/)/.test(a))
    if ((addresses.Swarm as string[]).length === 0) addresses.Swarm = ['/ip4/127.0.0.1/tcp/0']
  }
  if (JSON.stringify(doc) === before) return false
  await writeFileAtomic(join(repo, 'config'), JSON.stringify(doc, null, 2), { mode: 0o600 })
  return true
}
