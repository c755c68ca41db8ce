#!/usr/bin/env node
// Provides the wanproxy binary (the WAN emulator of the tests and `npm run
// bench`) and prints its path. Order: $CITRATE_TEST_WANPROXY (an existing
// binary), then the cache (${XDG_CACHE_HOME:-~/.cache}/citrate-ipfs/wanproxy/<hash>/wanproxy,
// the hash being of this folder's Go sources, so an edit rebuilds), else
// `go build -trimpath` here (standard library only: no module downloads).
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { goBuild } from '../go-build.mjs'

const here = dirname(fileURLToPath(import.meta.url))

export function wanproxySourceHash () {
  const hash = createHash('sha256')
  for (const name of readdirSync(here).filter(n => n.endsWith('.go') || n === 'go.mod').sort()) {
    hash.update(name).update('\0').update(readFileSync(join(here, name))).update('\0')
  }
  return hash.digest('hex').slice(0, 16)
}

export function cachedWanproxyPath (hash = wanproxySourceHash()) {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache')
  return join(cache, 'citrate-ipfs', 'wanproxy', hash, process.platform === 'win32' ? 'wanproxy.exe' : 'wanproxy')
}

export function ensureWanproxy ({ log = () => {} } = {}) {
  const fromEnv = process.env.CITRATE_TEST_WANPROXY
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CITRATE_TEST_WANPROXY=${fromEnv} does not exist`)
    return fromEnv
  }
  const target = cachedWanproxyPath()
  if (existsSync(target)) return target
  log(`building wanproxy (cached at ${target})`)
  // GOFLAGS=-mod=mod or a proxy setting of the caller must not send the build to the network.
  goBuild({ cwd: here, pkg: '.', target, env: { GOFLAGS: '', GOPROXY: 'off' } })
  return target
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(ensureWanproxy({ log: (m) => process.stderr.write(m + '\n') }) + '\n')
}
