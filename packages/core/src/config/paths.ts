/**
 * The layout of CITRATE_HOME (the seed's): every piece of state lives below it.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { kuboBinaryName } from '../platform.ts'

export interface CitratePaths {
  home: string
  configFile: string
  /** kubo's repo (`IPFS_PATH`). */
  ipfsRepo: string
  /** Where `install` puts kubo. */
  bin: string
  installedKubo: string
  logs: string
  daemonLog: string
  /** Runtime state: the record of the daemon we started. */
  run: string
  daemonState: string
  /** The per-install secret that kubo's RPC requires of every call (mode 0600; see daemon/rpc-secret.ts). */
  rpcSecret: string
  models: string
  datasets: string
  checkpoints: string
  /** Decentralized assets and contract off-chain data pulled with `--kind asset`. */
  assets: string
  /** Resumable retrievals, one folder per root CID (`tmp/pulls/v1/<cid>/`; `v1` is the layout version). */
  pulls: string
}

export function citratePaths (home: string, opts: { configFile?: string, modelsPath?: string } = {}): CitratePaths {
  const logs = join(home, 'logs')
  const run = join(home, 'run')
  const bin = join(home, 'bin')
  return {
    home,
    configFile: opts.configFile ?? join(home, 'citrate.toml'),
    ipfsRepo: join(home, 'ipfs'),
    bin,
    installedKubo: join(bin, kuboBinaryName()),
    logs,
    daemonLog: join(logs, 'kubo.log'),
    run,
    daemonState: join(run, 'kubo-daemon.json'),
    rpcSecret: join(run, 'kubo-rpc-secret'),
    models: opts.modelsPath ?? join(home, 'models'),
    datasets: join(home, 'training', 'datasets'),
    checkpoints: join(home, 'training', 'checkpoints'),
    assets: join(home, 'assets'),
    pulls: pullsRoot(home)
  }
}

/** Where resumable retrievals live under a home: a layout change bumps the `v1`, never migrates in place. */
export function pullsRoot (home: string): string {
  return join(home, 'tmp', 'pulls', 'v1')
}

/** Creates the directories of the layout (idempotent). */
export async function ensureLayout (paths: CitratePaths): Promise<void> {
  for (const dir of [paths.home, paths.ipfsRepo, paths.bin, paths.logs, paths.run, paths.models, paths.datasets, paths.checkpoints, paths.assets]) {
    await mkdir(dir, { recursive: true })
  }
}
