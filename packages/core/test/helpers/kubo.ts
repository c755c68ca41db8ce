/**
 * The one way tests get a real kubo: a fresh CITRATE_HOME in a temp folder whose
 * citrate.toml runs the pinned kubo offline, on free loopback ports, with the
 * `test` init profile (no bootstrap peers, no MDNS, loopback swarm address).
 * Nothing a test starts may dial beyond 127.0.0.1.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readlink, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { DaemonManager, loadConfig, type LoadedConfig } from '../../src/index.ts'
import { freePort } from '../../src/util/ports.ts'

const execFileAsync = promisify(execFile)

export function testKuboBinary (): string {
  const p = process.env.CITRATE_TEST_KUBO
  if (p == null || p === '') throw new Error('CITRATE_TEST_KUBO is not set: run the tests with `npm test`, which builds kubo')
  return p
}

export interface TestHome {
  home: string
  apiPort: number
  gatewayPort: number
  config: LoadedConfig
  manager: DaemonManager
  /** Environment for a CLI child process using this home. */
  env: NodeJS.ProcessEnv
  /** Reloads config after the file changed. */
  reload: () => Promise<void>
  /** Stops any daemon and removes the folder. */
  cleanup: () => Promise<void>
}

export async function makeTestHome (extraToml = '', opts: { daemonPath?: string } = {}): Promise<TestHome> {
  const home = await mkdtemp(join(tmpdir(), 'citrate-test-'))
  const apiPort = await freePort()
  let gatewayPort = await freePort()
  while (gatewayPort === apiPort) gatewayPort = await freePort()
  await writeFile(join(home, 'citrate.toml'), [
    '[ipfs]',
    `daemon_path = ${JSON.stringify(opts.daemonPath ?? testKuboBinary())}`,
    `api_port = ${apiPort}`,
    `gateway_port = ${gatewayPort}`,
    'offline = true',
    'init_profiles = ["test"]',
    'fallback_gateway = "http://127.0.0.1:9"',
    'public_gateways = []',
    'start_timeout_seconds = 60',
    extraToml
  ].join('\n') + '\n')
  const env = { ...process.env, CITRATE_HOME: home, IPFS_TELEMETRY: 'off' }
  const t: TestHome = {
    home,
    apiPort,
    gatewayPort,
    config: await loadConfig({ home }),
    manager: undefined as unknown as DaemonManager,
    env,
    reload: async () => {
      t.config = await loadConfig({ home })
      t.manager = new DaemonManager({ config: t.config, env })
    },
    cleanup: async () => {
      await t.manager.stop().catch(() => {})
      await rm(home, { recursive: true, force: true })
    }
  }
  t.manager = new DaemonManager({ config: t.config, env })
  return t
}

/**
 * Runs the real kubo CLI against a repo (e.g. `ipfs add`, `ipfs cat`). While
 * its daemon runs the CLI goes through the RPC, which our manager locks: the
 * secret from the repo's `API.Authorizations` goes along as `--api-auth`
 * (kubo has no environment variable for it; on a test's command line it is fine).
 */
export async function ipfs (repo: string, args: string[], input?: Uint8Array): Promise<Buffer> {
  const auth = await repoRpcAuthSecret(repo)
  const child = execFileAsync(testKuboBinary(), [...(auth != null ? [`--api-auth=${auth}`] : []), ...args], { env: { ...process.env, IPFS_PATH: repo, IPFS_TELEMETRY: 'off' }, encoding: 'buffer', maxBuffer: 1024 * 1024 * 1024 })
  if (input != null) {
    child.child.stdin?.end(input)
  }
  const { stdout } = await child
  return stdout
}

/** The `AuthSecret` (`bearer:<secret>`) of our entry in a repo's `API.Authorizations`, if any. */
export async function repoRpcAuthSecret (repo: string): Promise<string | undefined> {
  try {
    const doc = JSON.parse(await readFile(join(repo, 'config'), 'utf8')) as { API?: { Authorizations?: Record<string, { AuthSecret?: string }> } }
    return doc.API?.Authorizations?.citrate?.AuthSecret
  } catch {
    return undefined
  }
}

/**
 * Remote addresses of every TCP socket a process holds (Linux /proc), used to
 * prove test daemons talk to nothing but loopback.
 */
export async function tcpPeersOf (pid: number): Promise<string[]> {
  const inodes = new Set<string>()
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [])) {
    const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')
    const m = /^socket:\[(\d+)\]$/.exec(link)
    if (m?.[1] != null) inodes.add(m[1])
  }
  const addrs: string[] = []
  for (const table of ['tcp', 'tcp6', 'udp', 'udp6']) {
    const text = await readFile(`/proc/${pid}/net/${table}`, 'utf8').catch(() => '')
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/)
      if (cols.length < 10 || !inodes.has(cols[9] ?? '')) continue
      addrs.push(`${table} ${decodeProcAddr(cols[1] ?? '')} -> ${decodeProcAddr(cols[2] ?? '')}`)
    }
  }
  return addrs
}

function decodeProcAddr (hex: string): string {
  const [ip = '', port = '0'] = hex.split(':')
  const p = Number.parseInt(port, 16)
  if (ip.length === 8) {
    const b = (ip.match(/../g) ?? []).map(x => Number.parseInt(x, 16)).reverse()
    return `${b.join('.')}:${p}`
  }
  // IPv6: four little-endian 32-bit words.
  const words = (ip.match(/.{8}/g) ?? []).map(w => (w.match(/../g) ?? []).reverse().join(''))
  const full = words.join('')
  if (/^0{20}ffff/.test(full)) {
    const v4 = (full.slice(24).match(/../g) ?? []).map(x => Number.parseInt(x, 16))
    return `${v4.join('.')}:${p}`
  }
  return `[${(full.match(/.{4}/g) ?? []).join(':')}]:${p}`
}

/** True for an address on loopback or unspecified (a listening socket). */
export function isLoopbackOrUnbound (addr: string): boolean {
  const host = addr.replace(/:\d+$/, '')
  return /^127\./.test(host) || host === '0.0.0.0' || host === '[0000:0000:0000:0000:0000:0000:0000:0001]' || host === '[0000:0000:0000:0000:0000:0000:0000:0000]'
}

/** Writes `bytes` to `dir/name` and adds it to the repo's kubo (`ipfs add -Q`), returning its CID. */
export async function addBytes (repo: string, dir: string, name: string, bytes: Uint8Array, pin = true): Promise<string> {
  const file = join(dir, name)
  await writeFile(file, bytes)
  return (await ipfs(repo, ['add', '-Q', `--pin=${pin}`, file])).toString().trim()
}
