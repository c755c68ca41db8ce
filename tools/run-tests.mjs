#!/usr/bin/env node
// The whole test suite: node's test runner over every packages/*/test/**/*.spec.ts
// (Node 24 runs the TypeScript directly), against the pinned real kubo and
// with the WAN emulator (tools/wanproxy) built.
import { spawn } from 'node:child_process'
import { globSync } from 'node:fs'
import { ensureKubo } from './kubo/build-kubo.mjs'
import { ensureWanproxy } from './wanproxy/build.mjs'
import { ensureCluster } from './cluster/build-cluster.mjs'

const filter = process.argv.slice(2)
const all = globSync('packages/*/test/**/*.spec.ts')
// Every filter must name at least one test file: with none left, node --test would fall back to its own
// default pattern and run a different, larger set (fixtures included) instead of saying so.
const unmatched = filter.filter(x => !all.some(f => f.includes(x)))
if (unmatched.length > 0) {
  process.stderr.write(`run-tests: no test file matches ${unmatched.map(x => JSON.stringify(x)).join(', ')} (test files are packages/*/test/**/*.spec.ts; a filter is a substring of their path)\n`)
  process.exit(2)
}
const files = all.filter(f => filter.length === 0 || filter.some(x => f.includes(x))).sort()

const kubo = ensureKubo({ log: (m) => process.stderr.write(m + '\n') })
// The WAN emulator the integration tests put in front of kubo, built once here rather than per test file.
const wanproxy = ensureWanproxy({ log: (m) => process.stderr.write(m + '\n') })
// IPFS Cluster (tools/cluster) for the cluster tests.
const cluster = ensureCluster({ log: (m) => process.stderr.write(m + '\n') })
const args = [
  '--test',
  '--test-concurrency=2',
  '--test-timeout=300000',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=./tools/summary-reporter.mjs', '--test-reporter-destination=stdout',
  ...files
]
const child = spawn(process.execPath, args, { stdio: 'inherit', env: { ...process.env, CITRATE_TEST_KUBO: kubo, CITRATE_TEST_WANPROXY: wanproxy, CITRATE_TEST_CLUSTER_DIR: cluster, IPFS_TELEMETRY: 'off' } })
child.on('exit', (code, signal) => { process.exitCode = code ?? (signal != null ? 1 : 0) })
