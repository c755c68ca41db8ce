#!/usr/bin/env node
// Provides the IPFS Cluster binaries (ipfs-cluster-service, ipfs-cluster-ctl)
// the cluster tests run and prints their folder. Order: $CITRATE_TEST_CLUSTER_DIR
// (a folder holding both), then the cache
// (${XDG_CACHE_HOME:-~/.cache}/citrate-ipfs/cluster/<version>/), else they are
// built from the pinned Go module in this folder with the machine's Go toolchain.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { goBuild } from '../go-build.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const COMMANDS = ['ipfs-cluster-service', 'ipfs-cluster-ctl']
const exe = (name) => process.platform === 'win32' ? `${name}.exe` : name

export function pinnedClusterVersion () {
  const m = /github\.com\/ipfs-cluster\/ipfs-cluster (v[0-9][^\s]*)/.exec(readFileSync(join(here, 'go.mod'), 'utf8'))
  if (m == null) throw new Error('tools/cluster/go.mod does not require github.com/ipfs-cluster/ipfs-cluster')
  return m[1]
}

export function cachedClusterDir (version = pinnedClusterVersion()) {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache')
  return join(cache, 'citrate-ipfs', 'cluster', version)
}

/** The folder holding both binaries, building what is missing. */
export function ensureCluster ({ log = () => {} } = {}) {
  const fromEnv = process.env.CITRATE_TEST_CLUSTER_DIR
  if (fromEnv) {
    for (const c of COMMANDS) if (!existsSync(join(fromEnv, exe(c)))) throw new Error(`CITRATE_TEST_CLUSTER_DIR=${fromEnv} has no ${exe(c)}`)
    return fromEnv
  }
  const version = pinnedClusterVersion()
  const dir = cachedClusterDir(version)
  for (const c of COMMANDS) {
    const target = join(dir, exe(c))
    if (existsSync(target)) continue
    log(`building ${c} ${version} from its Go module (first run only; cached at ${target})`)
    goBuild({ cwd: here, pkg: `github.com/ipfs-cluster/ipfs-cluster/cmd/${c}`, target })
  }
  return dir
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = ensureCluster({ log: (m) => process.stderr.write(m + '\n') })
  const version = execFileSync(join(dir, exe('ipfs-cluster-service')), ['--version']).toString().trim()
  process.stdout.write(`${version}: ${dir}\n`)
}
