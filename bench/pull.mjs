#!/usr/bin/env node
// Benchmark: `pull` (verified, every block hashed, written at its offset) of a
// >= 1 GiB file served by a local test kubo, against `ipfs get` of the same CID
// and `curl` of the kubo gateway's raw bytes. Prints throughput, ratios
// (targets: pull >= 0.9x curl, ahead of ipfs get) and pull's peak RSS (< 150 MB).
//
// Standalone: `node bench/pull.mjs [--size-mib N] [--runs N]` (after `npm run build`).
// From bench/run.mjs: `import { benchPull } from './pull.mjs'; const r = await benchPull({ log })`.
import { execFile, spawn } from 'node:child_process'
import { createCipheriv, createHash } from 'node:crypto'
import { mkdir, open, rm, stat, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { ensureKubo } from '../tools/kubo/build-kubo.mjs'

const execFileAsync = promisify(execFile)
const here = dirname(fileURLToPath(import.meta.url))
const coreDist = pathToFileURL(join(here, '..', 'packages', 'core', 'dist', 'index.js')).href

async function makeFile (path, bytes) {
  const existing = await stat(path).catch(() => undefined)
  if (existing?.size === bytes) return
  const cipher = createCipheriv('chacha20', createHash('sha256').update('bench-pull').digest(), Buffer.alloc(16))
  const fh = await open(path, 'w')
  const piece = Buffer.alloc(8 * 1024 * 1024)
  for (let left = bytes; left > 0; left -= piece.length) await fh.write(cipher.update(left >= piece.length ? piece : piece.subarray(0, left)))
  await fh.close()
}

function freePort () {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)) })
  })
}

async function timed (fn) {
  const t0 = process.hrtime.bigint()
  const value = await fn()
  return { value, seconds: Number(process.hrtime.bigint() - t0) / 1e9 }
}

/** Our pull in a child process of its own, so its peak RSS is the pull's alone. */
function childPull (home, cid, id) {
  const code = `
    const { loadConfig, pull } = await import(${JSON.stringify(coreDist)})
    const config = await loadConfig({ home: ${JSON.stringify(home)} })
    const t0 = process.hrtime.bigint()
    const res = await pull({ cid: ${JSON.stringify(cid)}, config, name: ${JSON.stringify(id)}, publicGateways: [] })
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9
    process.stdout.write(JSON.stringify({ seconds, maxRssKb: process.resourceUsage().maxRSS, path: res.path, sources: res.sources }))
  `
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(process.env.BENCH_CPU_PROF != null ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []), '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, IPFS_TELEMETRY: 'off' } })
    let out = ''
    child.stdout.on('data', (d) => { out += d })
    child.on('exit', (c) => c === 0 ? resolve(JSON.parse(out)) : reject(new Error(`pull child exited with ${c}`)))
  })
}

export async function benchPull ({ sizeMiB = 1024, runs = 2, log = (m) => process.stderr.write(m + '\n'), workDir = join(here, '.work') } = {}) {
  const { loadConfig, DaemonManager } = await import(coreDist)
  const kubo = ensureKubo({ log })
  await mkdir(workDir, { recursive: true })
  const file = join(workDir, `pull-${sizeMiB}MiB.bin`)
  const bytes = sizeMiB * 1024 * 1024
  log(`bench pull: preparing ${sizeMiB} MiB file`)
  await makeFile(file, bytes)

  const home = join(workDir, 'pull-home')
  await rm(home, { recursive: true, force: true })
  await mkdir(home, { recursive: true })
  const apiPort = await freePort()
  let gatewayPort = await freePort()
  while (gatewayPort === apiPort) gatewayPort = await freePort()
  await writeFile(join(home, 'citrate.toml'), [
    '[ipfs]', `daemon_path = ${JSON.stringify(kubo)}`, `api_port = ${apiPort}`, `gateway_port = ${gatewayPort}`,
    'offline = true', 'init_profiles = ["test"]', 'fallback_gateway = "http://127.0.0.1:9"', 'auto_pin = false'
  ].join('\n') + '\n')
  const env = { ...process.env, CITRATE_HOME: home, IPFS_TELEMETRY: 'off' }
  const config = await loadConfig({ home })
  const manager = new DaemonManager({ config, env })
  const { status } = await manager.start()
  const ipfsEnv = { ...process.env, IPFS_PATH: config.paths.ipfsRepo, IPFS_TELEMETRY: 'off' }
  try {
    // kubo's default settings (CIDv0, 256 KiB chunks), like the app's model CIDs.
    const cid = (await execFileAsync(kubo, ['add', '-Q', '--pin=false', file], { env: ipfsEnv, maxBuffer: 1 << 20 })).stdout.trim()
    log(`bench pull: ${cid} added; ${runs} runs of each, alternating, best kept`)
    const out = join(workDir, 'pull-out')
    const best = { curl: Infinity, curlSync: Infinity, ipfsGet: Infinity, pull: Infinity }
    let maxRssKb = 0
    for (let i = 0; i < runs; i++) {
      await rm(out, { recursive: true, force: true })
      const c = await timed(() => execFileAsync('curl', ['-sf', '-o', out, `${status.gatewayUrl}/ipfs/${cid}`]))
      best.curl = Math.min(best.curl, c.seconds)
      // pull fsyncs before its commit rename; curl + fsync of its output is the like-for-like figure.
      const cs = await timed(async () => { await execFileAsync('curl', ['-sf', '-o', out, `${status.gatewayUrl}/ipfs/${cid}`]); const fh = await open(out, 'r+'); await fh.datasync(); await fh.close() })
      best.curlSync = Math.min(best.curlSync, cs.seconds)
      await rm(out, { recursive: true, force: true })
      const g = await timed(() => execFileAsync(kubo, ['get', '-o', out, cid], { env: ipfsEnv, maxBuffer: 1 << 20 }))
      best.ipfsGet = Math.min(best.ipfsGet, g.seconds)
      await rm(out, { recursive: true, force: true })
      const p = await childPull(home, cid, `bench-${i}`)
      best.pull = Math.min(best.pull, p.seconds)
      maxRssKb = Math.max(maxRssKb, p.maxRssKb)
      if ((await stat(p.path)).size !== bytes) throw new Error('pull produced a file of the wrong size')
      await rm(dirname(p.path), { recursive: true, force: true })
      log(`  run ${i + 1}: curl ${(bytes / 1e6 / c.seconds).toFixed(0)} MB/s, ipfs get ${(bytes / 1e6 / g.seconds).toFixed(0)} MB/s, pull ${(bytes / 1e6 / p.seconds).toFixed(0)} MB/s (peak RSS ${(p.maxRssKb / 1024).toFixed(0)} MiB)`)
    }
    await rm(out, { recursive: true, force: true })
    const mbps = (s) => bytes / 1e6 / s
    return {
      sizeMiB,
      cid,
      curlMBps: mbps(best.curl),
      curlSyncMBps: mbps(best.curlSync),
      ipfsGetMBps: mbps(best.ipfsGet),
      pullMBps: mbps(best.pull),
      pullVsCurl: best.curl / best.pull,
      pullVsCurlSync: best.curlSync / best.pull,
      pullVsIpfsGet: best.ipfsGet / best.pull,
      pullPeakRssMiB: maxRssKb / 1024
    }
  } finally {
    await manager.stop().catch(() => {})
  }
}

export function formatPullResult (r) {
  return [
    `pull of a ${r.sizeMiB} MiB file (CIDv0, 256 KiB chunks) from a local kubo:`,
    `  curl (gateway raw bytes): ${r.curlMBps.toFixed(0)} MB/s (${r.curlSyncMBps.toFixed(0)} MB/s with an fsync of its output, as pull does)`,
    `  ipfs get:                 ${r.ipfsGetMBps.toFixed(0)} MB/s`,
    `  citrate pull (verified):  ${r.pullMBps.toFixed(0)} MB/s  = ${r.pullVsCurl.toFixed(2)}x curl (${r.pullVsCurlSync.toFixed(2)}x curl+fsync), ${r.pullVsIpfsGet.toFixed(2)}x ipfs get`,
    `  pull peak RSS:            ${r.pullPeakRssMiB.toFixed(0)} MiB`
  ].join('\n')
}

/** The rows for BENCHMARKS.md. */
export function pullMarkdown (r) {
  return [
    '| pull of 1 file from local kubo | size | curl (raw bytes) | curl + fsync | ipfs get | citrate pull (verified, fsynced) | pull/curl | pull/(curl+fsync) | pull/ipfs get | pull peak RSS |',
    '|---|---|---|---|---|---|---|---|---|---|',
    `| CIDv0, 256 KiB chunks | ${(r.sizeMiB / 1024).toFixed(2)} GiB | ${r.curlMBps.toFixed(0)} MB/s | ${r.curlSyncMBps.toFixed(0)} MB/s | ${r.ipfsGetMBps.toFixed(0)} MB/s | ${r.pullMBps.toFixed(0)} MB/s | ${r.pullVsCurl.toFixed(2)}x | ${r.pullVsCurlSync.toFixed(2)}x | ${r.pullVsIpfsGet.toFixed(2)}x | ${r.pullPeakRssMiB.toFixed(0)} MiB |`
  ].join('\n')
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : dflt }
  const r = await benchPull({ sizeMiB: arg('--size-mib', 1024), runs: arg('--runs', 2) })
  process.stdout.write(formatPullResult(r) + '\n')
}
