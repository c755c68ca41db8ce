#!/usr/bin/env node
// `npm run test:tauri`: builds the Tauri v2 example (examples/tauri-app) around the packaged
// sidecar and drives it under Xvfb (tools/tauri/tauri-app.spec.ts). Steps:
//   1. system packages (tools/tauri/setup.sh: WebKitGTK 4.1, Xvfb, … via apt-get when missing)
//   2. the test kubo (tools/kubo) and the sidecar: dist/sidecar/citrate-ipfs-<triple> from
//      `npm run package`, copied into src-tauri/binaries/ as Tauri's externalBin wants it
//   3. the front end (Vite → examples/tauri-app/dist)
//   4. cargo build, with the target directory cached in ${XDG_CACHE_HOME:-~/.cache}/citrate-ipfs/tauri-target
//      (cold: ~16 min on 2 shared cores; warm: seconds)
//   5. the smoke test under Node's test runner; ends with "N passed, N failed".
// CITRATE_TAURI_NODE_SIDECAR=1 stands in a script that runs the Node CLI for the packaged sidecar
// (development only: the test is meant for the real single executable).
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureKubo } from '../kubo/build-kubo.mjs'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const app = join(root, 'examples', 'tauri-app')
const srcTauri = join(app, 'src-tauri')
const log = (m) => process.stderr.write(`test:tauri: ${m}\n`)

function step (what, fn) {
  const began = Date.now()
  const result = fn()
  log(`${what}: ${((Date.now() - began) / 1000).toFixed(1)} s`)
  return result
}

step('system packages', () => execFileSync('bash', [join(root, 'tools', 'tauri', 'setup.sh')], { stdio: 'inherit' }))
const kubo = step('test kubo', () => ensureKubo({ log }))

const cargo = existsSync(join(homedir(), '.cargo', 'bin', 'cargo')) ? join(homedir(), '.cargo', 'bin', 'cargo') : 'cargo'
const rustc = join(dirname(cargo), 'rustc')
const triple = /^host: (\S+)$/m.exec(execFileSync(existsSync(rustc) ? rustc : 'rustc', ['-vV'], { encoding: 'utf8' }))?.[1]
if (triple == null) throw new Error('rustc -vV names no host triple')
const exe = triple.includes('windows') ? '.exe' : ''

step('sidecar', () => {
  const packaged = join(root, 'dist', 'sidecar', `citrate-ipfs-${triple}${exe}`)
  const bins = join(srcTauri, 'binaries')
  rmSync(bins, { recursive: true, force: true })
  mkdirSync(bins, { recursive: true })
  const target = join(bins, `citrate-ipfs-${triple}${exe}`)
  if (process.env.CITRATE_TAURI_NODE_SIDECAR === '1') {
    log('CITRATE_TAURI_NODE_SIDECAR=1: a script running the Node CLI stands in for the packaged sidecar')
    execFileSync(process.execPath, ['--run', 'build'], { cwd: root, stdio: 'inherit' })
    writeFileSync(target, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(root, 'packages', 'cli', 'dist', 'main.js'))} "$@"\n`)
    chmodSync(target, 0o755)
    return
  }
  const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts ?? {}
  if (scripts.package == null) throw new Error('no `npm run package` in package.json: the packaged sidecar cannot be built (CITRATE_TAURI_NODE_SIDECAR=1 stands in the Node CLI)')
  const npm = spawnSync('npm', ['run', 'package'], { cwd: root, stdio: 'inherit' })
  if (npm.status !== 0) throw new Error(`npm run package failed (exit ${String(npm.status)})`)
  if (!existsSync(packaged)) throw new Error(`npm run package made no ${packaged}`)
  copyFileSync(packaged, target)
  chmodSync(target, 0o755)
})

await step('front end', () => import('vite').then(({ build }) => build({
  configFile: false,
  root: join(app, 'ui'),
  base: './',
  logLevel: 'warn',
  build: { outDir: join(app, 'dist'), emptyOutDir: true }
})))

const targetDir = process.env.CARGO_TARGET_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'citrate-ipfs', 'tauri-target')
const cold = !existsSync(join(targetDir, 'debug', 'build'))
step(`cargo build (${cold ? 'cold' : 'cached'} target ${targetDir})`, () => {
  const r = spawnSync('nice', ['-n', '10', cargo, 'build', '--locked', '--features', 'custom-protocol'], {
    cwd: srcTauri,
    stdio: 'inherit',
    env: { ...process.env, CARGO_TARGET_DIR: targetDir }
  })
  if (r.status !== 0) throw new Error(`cargo build failed (exit ${String(r.status)})`)
})

const appBinary = join(targetDir, 'debug', `citrate-ipfs-tauri-example${exe}`)
const test = spawnSync(process.execPath, [
  '--test', '--test-timeout=300000',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=./tools/summary-reporter.mjs', '--test-reporter-destination=stdout',
  join('tools', 'tauri', 'readme-snippets.spec.ts'),
  join('tools', 'tauri', 'tauri-app.spec.ts')
], { cwd: root, stdio: 'inherit', env: { ...process.env, CITRATE_TEST_KUBO: kubo, CITRATE_TAURI_APP: appBinary, IPFS_TELEMETRY: 'off' } })
process.exitCode = test.status ?? 1
