#!/usr/bin/env node
// Provides the kubo binary the tests run against and prints its path.
// Order: $CITRATE_TEST_KUBO (an existing binary), then the cache
// (${XDG_CACHE_HOME:-~/.cache}/citrate-ipfs/kubo/<version>/ipfs), else it is built
// from the pinned Go module in this folder with the machine's Go toolchain.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { goBuild } from '../go-build.mjs'

const here = dirname(fileURLToPath(import.meta.url))

export function pinnedKuboVersion () {
  const m = /github\.com\/ipfs\/kubo (v[0-9][^\s]*)/.exec(readFileSync(join(here, 'go.mod'), 'utf8'))
  if (m == null) throw new Error('tools/kubo/go.mod does not require github.com/ipfs/kubo')
  return m[1]
}

export function cachedKuboPath (version = pinnedKuboVersion()) {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache')
  return join(cache, 'citrate-ipfs', 'kubo', version, process.platform === 'win32' ? 'ipfs.exe' : 'ipfs')
}

export function ensureKubo ({ log = () => {} } = {}) {
  const fromEnv = process.env.CITRATE_TEST_KUBO
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CITRATE_TEST_KUBO=${fromEnv} does not exist`)
    return fromEnv
  }
  const version = pinnedKuboVersion()
  const target = cachedKuboPath(version)
  if (existsSync(target)) return target
  log(`building kubo ${version} from its Go module (first run only; cached at ${target})`)
  goBuild({ cwd: here, pkg: 'github.com/ipfs/kubo/cmd/ipfs', target })
  return target
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = ensureKubo({ log: (m) => process.stderr.write(m + '\n') })
  const version = execFileSync(path, ['version', '--number'], { env: { ...process.env, IPFS_TELEMETRY: 'off' } }).toString().trim()
  process.stdout.write(`kubo ${version}: ${path}\n`)
}
