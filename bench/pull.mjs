#!/usr/bin/env node
// Benchmark: `pull` (verified, every block hashed, written at its offset) of a
// >= 1 GiB file served by a local test kubo, against `ipfs get` of the same CID
// and `curl` of the kubo gateway's raw bytes. Prints throughput, ratios
// (targets: pull >= 0.9x curl, ahead of ipfs get) and pull's peak RSS (< 150 MB).
// pull runs twice per round: as shipped (fsync before the commit, like
// curl + fsync) and with fsync = false (like plain curl). The CPU seconds the
// client and kubo spend on each are printed too: on a small machine kubo and
// the client share the cores, and verification (hashing) costs CPU curl never spends.
// Every run starts with the page cache flushed (`sync`) and after a pause of
// a few seconds (see settle()), so each tool meets the same memory state.
//
// Standalone: `node bench/pull.mjs [--size-mib N] [--runs N]` (after `npm run build`).
// From bench/run.mjs: `import { benchPull } from './pull.mjs'; const r = await benchPull({ log })`.
import { execFile, spawn } from 'node:child_process'
import { createCipheriv, createHash } from 'node:crypto'
import { mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { ensureKubo } from '../tools/kubo/build-kubo.mjs'

const execFileAsync = promisify(execFile)
const here = dirname(fileURLToPath(import.meta.url))
const coreDist = pathToFileURL(join(here, '..', 'packages', 'core', 'dist', 'index.js')).href
const cliMain = join(here, '..', 'packages', 'cli', 'dist', 'main.js')

export async function makeFile (path, bytes) {
  const existing = await stat(path).catch(() => undefined)
  if (existing?.size === bytes) return
  const cipher = createCipheriv('chacha20', createHash('sha256').update('bench-pull').digest(), Buffer.alloc(16))
  const fh = await open(path, 'w')
  const piece = Buffer.alloc(8 * 1024 * 1024)
  for (let left = bytes; left > 0; left -= piece.length) await fh.write(cipher.update(left >= piece.length ? piece : piece.subarray(0, left)))
  await fh.close()
}

export function freePort () {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)) })
  })
}

/**
 * CPU seconds from /proc/<pid>/stat (Linux; 0 elsewhere): the process's own
 * (utime + stime), or with `children` those of its waited-for children
 * (cutime + cstime: curl, ipfs get, the pull child).
 */
export async function cpuSecondsOf (pid, { children = false } = {}) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const at = children ? 13 : 11
  return (Number(f[at] ?? 0) + Number(f[at + 1] ?? 0)) / 100
}
const childCpuSeconds = () => cpuSecondsOf('self', { children: true })

/**
 * Every timed run starts from the same state: dirty pages flushed, and a few
 * seconds' pause. On a VM with free page reporting (virtio-balloon, as on the
 * machines here) memory freed by the previous run's `rm` goes back to the host
 * about 2 s later, and the next run's page cache then costs several times the
 * kernel time (dd: 2 MiB writes of 1 GiB 0.64 s warm, 2.2-2.6 s cold). Without
 * the pause, which run lands warm is luck.
 */
export async function settle () {
  await execFileAsync('sync')
  await new Promise(resolve => setTimeout(resolve, SETTLE_MS))
}
const SETTLE_MS = 3000

async function timed (fn, kuboPid) {
  await settle()
  const k0 = await cpuSecondsOf(kuboPid)
  const c0 = await childCpuSeconds()
  const t0 = process.hrtime.bigint()
  const value = await fn()
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  return { value, seconds, kuboCpu: (await cpuSecondsOf(kuboPid)) - k0, clientCpu: (await childCpuSeconds()) - c0 }
}

/**
 * Our pull as users run it: the CLI (`citrate-ipfs pull --json`) in a process
 * of its own, so its peak RSS (VmHWM, polled) is the pull's alone. The time is
 * the whole process, start-up included.
 */
/** Polls a child's peak RSS (VmHWM) every 20 ms; `stop()` returns it in kB. */
export function peakRss (pid) {
  let hwmKb = 0
  const poll = setInterval(() => {
    readFile(`/proc/${pid}/status`, 'utf8').then((st) => {
      const m = /VmHWM:\s+(\d+) kB/.exec(st)
      if (m != null) hwmKb = Math.max(hwmKb, Number(m[1]))
    }).catch(() => {})
  }, 20)
  return { stop: () => { clearInterval(poll); return hwmKb } }
}

function childPull (home, cid, id, fsync) {
  const args = [cliMain, 'pull', cid, '--name', id, '--json', ...(fsync ? [] : ['--no-fsync'])]
  const env = { ...process.env, CITRATE_HOME: home, CITRATE_IPFS_PUBLIC_GATEWAYS: '', IPFS_TELEMETRY: 'off' }
  const t0 = process.hrtime.bigint()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(process.env.BENCH_CPU_PROF != null ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []), ...args], { stdio: ['ignore', 'pipe', 'inherit'], env })
    let out = ''
    const rss = peakRss(child.pid)
    child.stdout.on('data', (d) => { out += d })
    child.on('exit', (c) => {
      const hwmKb = rss.stop()
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9
      if (c !== 0) { reject(new Error(`pull exited with ${c}: ${out.slice(-500)}`)); return }
      const result = JSON.parse(out.trim().split('\n').at(-1))
      resolve({ seconds, maxRssKb: hwmKb, path: result.path })
    })
  })
}

/**
 * A fresh CITRATE_HOME under the bench's work folder with a running test kubo
 * (offline, loopback ports, no public gateways), as every bench starts.
 */
export async function startBenchDaemon ({ workDir, name, kubo, loadConfig, DaemonManager }) {
  const home = join(workDir, name)
  await rm(home, { recursive: true, force: true })
  await mkdir(home, { recursive: true })
  const apiPort = await freePort()
  let gatewayPort = await freePort()
  while (gatewayPort === apiPort) gatewayPort = await freePort()
  await writeFile(join(home, 'citrate.toml'), [
    '[ipfs]', `daemon_path = ${JSON.stringify(kubo)}`, `api_port = ${apiPort}`, `gateway_port = ${gatewayPort}`,
    'offline = true', 'init_profiles = ["test"]', 'fallback_gateway = "http://127.0.0.1:9"', 'public_gateways = []', 'auto_pin = false'
  ].join('\n') + '\n')
  const env = { ...process.env, CITRATE_HOME: home, IPFS_TELEMETRY: 'off' }
  const config = await loadConfig({ home })
  const manager = new DaemonManager({ config, env })
  const { status } = await manager.start()
  // The daemon's RPC is locked with the install's secret: the kubo CLI reaches it with --api-auth.
  const apiAuth = `--api-auth=bearer:${(await readFile(config.paths.rpcSecret, 'utf8')).trim()}`
  return { home, env, config, manager, status, apiAuth }
}

export async function benchPull ({ sizeMiB = 1024, runs = 3, log = (m) => process.stderr.write(m + '\n'), workDir = join(here, '.work') } = {}) {
  const { loadConfig, DaemonManager } = await import(coreDist)
  const kubo = ensureKubo({ log })
  await mkdir(workDir, { recursive: true })
  const file = join(workDir, `pull-${sizeMiB}MiB.bin`)
  const bytes = sizeMiB * 1024 * 1024
  log(`bench pull: preparing ${sizeMiB} MiB file`)
  await makeFile(file, bytes)

  const { home, config, manager, status, apiAuth } = await startBenchDaemon({ workDir, name: 'pull-home', kubo, loadConfig, DaemonManager })
  const ipfsEnv = { ...process.env, IPFS_PATH: config.paths.ipfsRepo, IPFS_TELEMETRY: 'off' }
  try {
    // kubo's default settings (CIDv0, 256 KiB chunks), like the app's model CIDs.
    const cid = (await execFileAsync(kubo, [apiAuth, 'add', '-Q', '--pin=false', file], { env: ipfsEnv, maxBuffer: 1 << 20 })).stdout.trim()
    log(`bench pull: ${cid} added; ${runs} runs of each, alternating, best kept`)
    const out = join(workDir, 'pull-out')
    const kuboPid = status.pid
    const best = { curl: Infinity, curlSync: Infinity, ipfsGet: Infinity, pull: Infinity, pullNoSync: Infinity }
    const cpu = { curlKubo: Infinity, curl: Infinity, pullKubo: Infinity, pull: Infinity, ipfsGetKubo: Infinity }
    let maxRssKb = 0
    const runPull = async (i, fsync) => {
      const p = await timed(() => childPull(home, cid, `bench-${i}-${fsync ? 'sync' : 'nosync'}`, fsync), kuboPid)
      maxRssKb = Math.max(maxRssKb, p.value.maxRssKb)
      if ((await stat(p.value.path)).size !== bytes) throw new Error('pull produced a file of the wrong size')
      await rm(dirname(p.value.path), { recursive: true, force: true })
      return p
    }
    for (let i = 0; i < runs; i++) {
      await rm(out, { recursive: true, force: true })
      const c = await timed(() => execFileAsync('curl', ['-sf', '-o', out, `${status.gatewayUrl}/ipfs/${cid}`]), kuboPid)
      best.curl = Math.min(best.curl, c.seconds)
      cpu.curlKubo = Math.min(cpu.curlKubo, c.kuboCpu)
      cpu.curl = Math.min(cpu.curl, c.clientCpu)
      await rm(out, { recursive: true, force: true })
      // pull fsyncs before its commit rename; curl + fsync of its output is the like-for-like figure.
      const cs = await timed(async () => { await execFileAsync('curl', ['-sf', '-o', out, `${status.gatewayUrl}/ipfs/${cid}`]); const fh = await open(out, 'r+'); await fh.datasync(); await fh.close() }, kuboPid)
      best.curlSync = Math.min(best.curlSync, cs.seconds)
      await rm(out, { recursive: true, force: true })
      const g = await timed(() => execFileAsync(kubo, [apiAuth, 'get', '-o', out, cid], { env: ipfsEnv, maxBuffer: 1 << 20 }), kuboPid)
      best.ipfsGet = Math.min(best.ipfsGet, g.seconds)
      cpu.ipfsGetKubo = Math.min(cpu.ipfsGetKubo, g.kuboCpu)
      await rm(out, { recursive: true, force: true })
      const p = await runPull(i, true)
      best.pull = Math.min(best.pull, p.value.seconds)
      const q = await runPull(i, false)
      best.pullNoSync = Math.min(best.pullNoSync, q.value.seconds)
      cpu.pullKubo = Math.min(cpu.pullKubo, q.kuboCpu)
      cpu.pull = Math.min(cpu.pull, q.clientCpu)
      const mbps = (sec) => (bytes / 1e6 / sec).toFixed(0)
      log(`  run ${i + 1}: curl ${mbps(c.seconds)} MB/s (+fsync ${mbps(cs.seconds)}), ipfs get ${mbps(g.seconds)}, pull ${mbps(p.value.seconds)} (fsync = false: ${mbps(q.value.seconds)}); peak RSS ${(Math.max(p.value.maxRssKb, q.value.maxRssKb) / 1024).toFixed(0)} MiB`)
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
      pullNoSyncMBps: mbps(best.pullNoSync),
      pullVsCurl: best.curl / best.pull,
      pullVsCurlSync: best.curlSync / best.pull,
      pullNoSyncVsCurl: best.curl / best.pullNoSync,
      pullVsIpfsGet: best.ipfsGet / best.pull,
      pullPeakRssMiB: maxRssKb / 1024,
      pullPeakRssMB: maxRssKb * 1024 / 1e6,
      cpu,
      cores: availableParallelism(),
      // With every core busy, no client could do better than this: the CPU
      // seconds a pull costs (kubo serving it + verifying and writing) spread over all cores.
      cpuBoundMBps: bytes / 1e6 / ((cpu.pullKubo + cpu.pull) / availableParallelism())
    }
  } finally {
    await manager.stop().catch(() => {})
  }
}

export function formatPullResult (r) {
  return [
    `pull of a ${r.sizeMiB} MiB file (CIDv0, 256 KiB chunks) from a local kubo:`,
    `  curl (gateway raw bytes):       ${r.curlMBps.toFixed(0)} MB/s (${r.curlSyncMBps.toFixed(0)} MB/s with an fsync of its output)`,
    `  ipfs get:                       ${r.ipfsGetMBps.toFixed(0)} MB/s`,
    `  citrate pull (verified, fsync): ${r.pullMBps.toFixed(0)} MB/s  = ${r.pullVsCurlSync.toFixed(2)}x curl+fsync, ${r.pullVsCurl.toFixed(2)}x curl, ${r.pullVsIpfsGet.toFixed(2)}x ipfs get`,
    `  citrate pull, fsync = false:    ${r.pullNoSyncMBps.toFixed(0)} MB/s  = ${r.pullNoSyncVsCurl.toFixed(2)}x curl`,
    `  pull peak RSS:                  ${r.pullPeakRssMB.toFixed(0)} MB (${r.pullPeakRssMiB.toFixed(0)} MiB)`,
    `  CPU seconds: curl ${r.cpu.curl.toFixed(2)} + kubo serving it ${r.cpu.curlKubo.toFixed(2)}; kubo serving ipfs get ${r.cpu.ipfsGetKubo.toFixed(2)}; pull ${r.cpu.pull.toFixed(2)} + kubo serving it ${r.cpu.pullKubo.toFixed(2)}`,
    `  CPU-bound ceiling for pull on ${r.cores} cores: ${r.cpuBoundMBps.toFixed(0)} MB/s (pull reaches ${(r.pullNoSyncMBps / r.cpuBoundMBps).toFixed(2)}x of it, the ceiling is ${(r.cpuBoundMBps / r.curlMBps).toFixed(2)}x curl)`
  ].join('\n')
}

/** The rows for BENCHMARKS.md. */
export function pullMarkdown (r) {
  return [
    `| pull of 1 file from local kubo | size | curl (raw bytes) | curl + fsync | ipfs get | citrate pull (verified, fsync) | pull, fsync = false | pull/(curl+fsync) | pull (no fsync)/curl | pull/ipfs get | pull peak RSS | CPU s: curl + kubo / pull + kubo | CPU-bound ceiling (${r.cores} cores) |`,
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    `| CIDv0, 256 KiB chunks | ${(r.sizeMiB / 1024).toFixed(2)} GiB | ${r.curlMBps.toFixed(0)} MB/s | ${r.curlSyncMBps.toFixed(0)} MB/s | ${r.ipfsGetMBps.toFixed(0)} MB/s | ${r.pullMBps.toFixed(0)} MB/s | ${r.pullNoSyncMBps.toFixed(0)} MB/s | ${r.pullVsCurlSync.toFixed(2)}x | ${r.pullNoSyncVsCurl.toFixed(2)}x | ${r.pullVsIpfsGet.toFixed(2)}x | ${r.pullPeakRssMB.toFixed(0)} MB | ${r.cpu.curl.toFixed(2)} + ${r.cpu.curlKubo.toFixed(2)} / ${r.cpu.pull.toFixed(2)} + ${r.cpu.pullKubo.toFixed(2)} | ${r.cpuBoundMBps.toFixed(0)} MB/s |`
  ].join('\n')
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : dflt }
  const r = await benchPull({ sizeMiB: arg('--size-mib', 1024), runs: arg('--runs', 3) })
  process.stdout.write(formatPullResult(r) + '\n')
}
