#!/usr/bin/env node
// Benchmark: a verified pull over an emulated WAN. One loopback test kubo sits
// behind three gateways of tools/wanproxy with different round-trip times and
// per-connection and total bandwidth caps (GATEWAYS below), plus a flaky twin
// of the fastest that resets a third of its connections. Side by side, on the
// same 256 MiB file: our pull through the CLI (a gateway-only home whose
// config names the three proxies and nothing else, fsync on), curl through the
// fastest gateway (one connection), aria2c -x8 -s8 with the three as mirrors,
// and the sum of the caps (the limit) — as MB/s and as ratios (issue 10's
// targets: pull >= 0.85x the sum of caps and >= 1.5x aria2c; >= 0.7x the sum
// with the flaky gateway; peak RSS < 150 MB).
//
// Then the local CPU cost: a 1 GiB pull from the local daemon's gateway (no
// WAN) against curl of the same bytes plus one `openssl dgst -sha256` pass
// over them (target: pull <= 1.3x). Counted: CPU seconds (user + system) of
// the client process only — the pull's node process, curl, openssl; kubo's
// CPU serving each is printed beside, not added.
//
// Also the same pulls of a larger file (1 GiB; --large-mib 0 leaves them out), and the CLI's start-up.
// Standalone: `node bench/wan.mjs [--size-mib 256] [--large-mib 1024] [--cpu-size-mib 1024]` (after `npm run build`).
// From bench/run.mjs: `--only wan [--wan-size-mib N] [--wan-large-mib N]`.
import { execFile, execFileSync, spawn } from 'node:child_process'
import { mkdir, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { ensureKubo } from '../tools/kubo/build-kubo.mjs'
import { ensureWanproxy } from '../tools/wanproxy/build.mjs'
import { startWanproxy } from '../tools/wanproxy/client.mjs'
import { cpuSecondsOf, makeFile, peakRss, settle, startBenchDaemon } from './pull.mjs'

const execFileAsync = promisify(execFile)
const here = dirname(fileURLToPath(import.meta.url))
const coreDist = pathToFileURL(join(here, '..', 'packages', 'core', 'dist', 'index.js')).href
const cliMain = join(here, '..', 'packages', 'cli', 'dist', 'main.js')
const MB = 1e6

/** The emulated gateways (rates in bytes/s; MB = 10^6 bytes). */
export const GATEWAYS = [
  { name: 'fast', rttMs: 20, totalRate: 60 * MB, connRate: 24 * MB },
  { name: 'mid', rttMs: 80, totalRate: 40 * MB, connRate: 10 * MB },
  { name: 'slow', rttMs: 200, totalRate: 20 * MB, connRate: 5 * MB }
]
const FLAKY = { ...GATEWAYS[0], name: 'fast-flaky', resetProb: 1 / 3 }

/** Debian's aria2 (the bench's only use of it), installed with apt-get when missing and we are root. */
function ensureAria2c (log) {
  const found = () => { try { execFileSync('aria2c', ['--version'], { stdio: 'ignore' }); return true } catch { return false } }
  if (found()) return true
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    log('aria2c not found (install Debian\'s aria2 package): its rows are left out')
    return false
  }
  log('installing Debian aria2 for the WAN benchmark (apt-get)')
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'aria2'], { stdio: 'inherit', env })
  } catch (err) {
    log(`could not install aria2: ${err.message}`)
  }
  return found()
}

/** A fresh gateway-only home (no daemon source) per pull, so no pull reuses another's bytes. */
async function gatewayHome (dir, [external, fallback, ...others]) {
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'citrate.toml'), [
    '[ipfs]', 'daemon_enabled = false', `external_gateway = ${JSON.stringify(external)}`, `fallback_gateway = ${JSON.stringify(fallback)}`,
    `public_gateways = ${JSON.stringify(others)}`, 'fsync = true', 'auto_pin = false'
  ].join('\n') + '\n')
  return dir
}

/**
 * `citrate-ipfs pull --json` in a process of its own: wall time (start-up
 * included), peak RSS (VmHWM, polled) and its CPU seconds (the waited-for child's).
 */
function childPull (home, cid, id, extraArgs = [], command = [process.execPath, cliMain]) {
  const env = { ...process.env, CITRATE_HOME: home, IPFS_TELEMETRY: 'off' }
  delete env.CITRATE_IPFS_PUBLIC_GATEWAYS
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint()
    const child = spawn(command[0], [...command.slice(1), 'pull', cid, '--name', id, '--json', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'], env })
    let out = ''
    let err = ''
    const rss = peakRss(child.pid)
    child.stdout.on('data', (d) => { out += d })
    child.stderr.on('data', (d) => { err += d })
    child.on('exit', (code) => {
      const hwmKb = rss.stop()
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9
      const last = out.trim().split('\n').at(-1) ?? ''
      if (code !== 0) { reject(new Error(`pull exited with ${code}: ${(err || last).trim().slice(-400)}`)); return }
      resolve({ seconds, maxRssKb: hwmKb, result: JSON.parse(last) })
    })
  })
}

/** CPU seconds of finished children (pull, curl, openssl, aria2c) around fn. */
async function withChildCpu (fn) {
  const c0 = await cpuSecondsOf('self', { children: true })
  const t0 = process.hrtime.bigint()
  const value = await fn()
  return { value, seconds: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (await cpuSecondsOf('self', { children: true })) - c0 }
}

export async function benchWan ({ sizeMiB = 256, largeMiB = 1024, cpuSizeMiB = 1024, cpuRounds = 3, log = (m) => process.stderr.write(m + '\n'), workDir = join(here, '.work') } = {}) {
  const { loadConfig, DaemonManager, pull: libraryPull, sidecarFileName } = await import(coreDist)
  // The app's own CLI: the packaged single executable (`npm run package`), when it has been built.
  const sidecar = join(here, '..', 'dist', 'sidecar', sidecarFileName('citrate-ipfs'))
  const haveSidecar = await stat(sidecar).then(() => true, () => false)
  if (!haveSidecar) log(`bench wan: no ${sidecar} (npm run package): its rows are left out`)
  const kubo = ensureKubo({ log })
  const wanproxy = ensureWanproxy({ log })
  const haveAria2 = ensureAria2c(log)
  await mkdir(workDir, { recursive: true })
  const bytes = sizeMiB * 1024 * 1024
  const cpuBytes = cpuSizeMiB * 1024 * 1024
  // The pull bench's files (same content stream), so a full `npm run bench` makes each once.
  const file = join(workDir, `pull-${sizeMiB}MiB.bin`)
  const cpuFile = join(workDir, `pull-${cpuSizeMiB}MiB.bin`)
  const largeFile = join(workDir, `pull-${largeMiB}MiB.bin`)
  log(`bench wan: preparing ${sizeMiB} MiB${largeMiB > 0 ? `, ${largeMiB} MiB` : ''} and ${cpuSizeMiB} MiB files`)
  await makeFile(file, bytes)
  await makeFile(cpuFile, cpuBytes)
  if (largeMiB > 0) await makeFile(largeFile, largeMiB * 1024 * 1024)

  const { home, config, manager, status, apiAuth } = await startBenchDaemon({ workDir, name: 'wan-home', kubo, loadConfig, DaemonManager })
  const ipfsEnv = { ...process.env, IPFS_PATH: config.paths.ipfsRepo, IPFS_TELEMETRY: 'off' }
  let wan
  try {
    const add = async (f) => (await execFileAsync(kubo, [apiAuth, 'add', '-Q', '--pin=false', f], { env: ipfsEnv, maxBuffer: 1 << 20 })).stdout.trim()
    const cid = await add(file)
    const cpuCid = await add(cpuFile)
    const largeCid = largeMiB > 0 ? await add(largeFile) : undefined
    wan = await startWanproxy(wanproxy, status.gatewayUrl, [...GATEWAYS, FLAKY])
    const urls = GATEWAYS.map(g => wan.url(g.name))
    const nameOf = new Map(wan.gateways.map(g => [g.url, g.name]))
    const label = (s) => nameOf.get(s.replace(/\/+$/, '')) ?? s
    const sumCapsMBps = GATEWAYS.reduce((a, g) => a + g.totalRate, 0) / MB
    const out = join(workDir, 'wan-out')
    const mbps = (sec, n = bytes) => n / MB / sec
    /** Response bytes each gateway delivered during fn, in MB. */
    const perGateway = async (fn) => {
      const before = await wan.stats()
      const value = await fn()
      const after = await wan.stats()
      const share = Object.fromEntries(after.map((s, i) => [s.name, {
        mb: (s.bytesDown - before[i].bytesDown) / MB, connections: s.connections - before[i].connections, resets: s.resets - before[i].resets
      }]).filter(([, v]) => v.connections > 0))
      return { ...value, share }
    }
    const wanPull = async (id, gatewayUrls, what = { cid, bytes }, command = undefined) => {
      await settle()
      const dir = await gatewayHome(join(workDir, `wan-pull-${id}`), gatewayUrls)
      try {
        const p = await perGateway(() => childPull(dir, what.cid, id, [], command))
        if ((await stat(p.result.path)).size !== what.bytes) throw new Error('pull produced a file of the wrong size')
        return { ok: true, MBps: mbps(p.seconds, what.bytes), seconds: p.seconds, peakRssMB: p.maxRssKb * 1024 / MB, sources: p.result.sources.map(label), failures: p.result.failures.map(f => ({ source: label(f.source), reason: f.reason })), share: p.share }
      } catch (err) {
        return { ok: false, error: err.message }
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    }
    const aria2 = async (mirrors, what = { cid, bytes }) => {
      if (!haveAria2) return undefined
      await settle()
      await rm(out, { recursive: true, force: true })
      const a = await perGateway(async () => {
        const t = await withChildCpu(() => execFileAsync('aria2c', ['-x8', '-s8', '--file-allocation=none', '--allow-overwrite=true', '--auto-file-renaming=false',
          '--summary-interval=0', '--console-log-level=warn', '--download-result=hide', '-q', '-d', out, '-o', 'file', ...mirrors.map(u => `${u}/ipfs/${what.cid}`)], { maxBuffer: 1 << 20 }))
        return { seconds: t.seconds }
      })
      if ((await stat(join(out, 'file'))).size !== what.bytes) throw new Error('aria2c produced a file of the wrong size')
      await rm(out, { recursive: true, force: true })
      return { MBps: mbps(a.seconds, what.bytes), share: a.share }
    }

    log(`bench wan: ${cid} (${sizeMiB} MiB) behind ${GATEWAYS.map(g => g.name).join(', ')} (sum of caps ${sumCapsMBps} MB/s)`)
    await settle()
    await rm(out, { recursive: true, force: true })
    const curl = await perGateway(async () => ({ seconds: (await withChildCpu(() => execFileAsync('curl', ['-sf', '-o', out, `${wan.url('fast')}/ipfs/${cid}`]))).seconds }))
    await rm(out, { recursive: true, force: true })
    log(`  curl, fast gateway: ${mbps(curl.seconds).toFixed(1)} MB/s`)
    const aria = await aria2(urls)
    if (aria != null) log(`  aria2c -x8 -s8, three mirrors: ${aria.MBps.toFixed(1)} MB/s`)
    const pull = await wanPull('wan', urls)
    log(`  citrate pull: ${pull.ok ? `${pull.MBps.toFixed(1)} MB/s, peak RSS ${pull.peakRssMB.toFixed(0)} MB` : pull.error}`)
    const flakyUrls = [wan.url(FLAKY.name), ...urls.slice(1)]
    const ariaFlaky = await aria2(flakyUrls)
    if (ariaFlaky != null) log(`  flaky: aria2c ${ariaFlaky.MBps.toFixed(1)} MB/s`)
    const pullFlaky = await wanPull('wan-flaky', flakyUrls)
    log(`  flaky: citrate pull ${pullFlaky.ok ? `${pullFlaky.MBps.toFixed(1)} MB/s, peak RSS ${pullFlaky.peakRssMB.toFixed(0)} MB` : pullFlaky.error}`)
    // The same two pulls by the packaged single executable: the CLI the Citrate app ships (a smaller start-up).
    const seaPull = haveSidecar ? await wanPull('wan-sea', urls, { cid, bytes }, [sidecar]) : undefined
    if (seaPull != null) log(`  single executable: ${seaPull.ok ? `${seaPull.MBps.toFixed(1)} MB/s, peak RSS ${seaPull.peakRssMB.toFixed(0)} MB` : seaPull.error}`)
    const seaPullFlaky = haveSidecar ? await wanPull('wan-sea-flaky', flakyUrls, { cid, bytes }, [sidecar]) : undefined
    if (seaPullFlaky != null) log(`  flaky: single executable ${seaPullFlaky.ok ? `${seaPullFlaky.MBps.toFixed(1)} MB/s` : seaPullFlaky.error}`)
    // The same over a larger file: what the fixed costs of a pull (start-up, the DAG's first round trips,
    // first bytes on each connection, the final fsync) weigh once they are spread over more bytes.
    let large
    if (largeCid != null) {
      const what = { cid: largeCid, bytes: largeMiB * 1024 * 1024 }
      log(`bench wan: ${largeCid} (${largeMiB} MiB), same gateways`)
      const a = await aria2(urls, what)
      if (a != null) log(`  aria2c: ${a.MBps.toFixed(1)} MB/s`)
      const p = await wanPull('wan-large', urls, what)
      log(`  citrate pull: ${p.ok ? `${p.MBps.toFixed(1)} MB/s, peak RSS ${p.peakRssMB.toFixed(0)} MB` : p.error}`)
      const af = await aria2(flakyUrls, what)
      if (af != null) log(`  flaky: aria2c ${af.MBps.toFixed(1)} MB/s`)
      const pf = await wanPull('wan-large-flaky', flakyUrls, what)
      log(`  flaky: citrate pull ${pf.ok ? `${pf.MBps.toFixed(1)} MB/s, peak RSS ${pf.peakRssMB.toFixed(0)} MB` : pf.error}`)
      large = { sizeMiB: largeMiB, aria2: a, pull: p, ariaFlaky: af, pullFlaky: pf }
    }
    // The app's path: the service runs all the time and calls the library, so no pull pays a start-up.
    // The same pull, in this (already running) process, through core's pull() with the same config.
    const inProcess = async (id, what = { cid, bytes }, gatewayUrls = urls) => {
      await settle()
      const dir = await gatewayHome(join(workDir, `wan-lib-${id}`), gatewayUrls)
      try {
        const config = await loadConfig({ home: dir })
        const t0 = process.hrtime.bigint()
        const res = await libraryPull({ cid: what.cid, config, name: id })
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9
        if ((await stat(res.path)).size !== what.bytes) throw new Error('pull produced a file of the wrong size')
        return { ok: true, MBps: mbps(seconds, what.bytes) }
      } catch (err) {
        return { ok: false, error: err.message }
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    }
    const lib = await inProcess('wan-lib')
    log(`  library pull in a running process: ${lib.ok ? `${lib.MBps.toFixed(1)} MB/s` : lib.error}`)
    const libLarge = largeCid != null ? await inProcess('wan-lib-large', { cid: largeCid, bytes: largeMiB * 1024 * 1024 }) : undefined
    if (libLarge != null) log(`  ${largeMiB} MiB, library pull in a running process: ${libLarge.ok ? `${libLarge.MBps.toFixed(1)} MB/s` : libLarge.error}`)
    const libFlaky = await inProcess('wan-lib-flaky', { cid, bytes }, flakyUrls)
    log(`  flaky: library pull in a running process: ${libFlaky.ok ? `${libFlaky.MBps.toFixed(1)} MB/s` : libFlaky.error}`)
    const libLargeFlaky = largeCid != null ? await inProcess('wan-lib-large-flaky', { cid: largeCid, bytes: largeMiB * 1024 * 1024 }, flakyUrls) : undefined
    const proxyCpu = await cpuSecondsOf(wan.pid)

    // The CLI's own start-up (node, the module graph, commander): a fixed cost of every pull.
    const startup = []
    for (let k = 0; k < 3; k++) {
      const t0 = process.hrtime.bigint()
      await execFileAsync(process.execPath, [cliMain, '--version'])
      startup.push(Number(process.hrtime.bigint() - t0) / 1e9)
    }

    // Local CPU cost, no WAN: the daemon's own gateway, straight.
    log(`bench wan: CPU cost of a ${cpuSizeMiB} MiB pull from the local daemon's gateway`)
    const kuboPid = status.pid
    const cpuOut = join(workDir, 'wan-cpu-out')
    // Page-cache writes on this kind of VM cost from 1 to 3 CPU s per GiB from one minute to the next
    // (curl alone measured 1.48 and 3.3 s/GiB in two runs): rounds alternate the three and the medians count.
    const rounds = []
    for (let k = 0; k < cpuRounds; k++) {
      await rm(cpuOut, { recursive: true, force: true })
      await settle()
      let k0 = await cpuSecondsOf(kuboPid)
      const c = await withChildCpu(() => execFileAsync('curl', ['-sf', '-o', cpuOut, `${status.gatewayUrl}/ipfs/${cpuCid}`]))
      const curlKuboCpu = (await cpuSecondsOf(kuboPid)) - k0
      await settle()
      const o = await withChildCpu(() => execFileAsync('openssl', ['dgst', '-sha256', cpuOut]))
      await rm(cpuOut, { recursive: true, force: true })
      await settle()
      // In the daemon's own home, so the daemon is the pull's source as users have it.
      k0 = await cpuSecondsOf(kuboPid)
      const p = await withChildCpu(() => childPull(home, cpuCid, `wan-cpu-${k}`, ['--no-fsync']))
      const pullKuboCpu = (await cpuSecondsOf(kuboPid)) - k0
      if ((await stat(p.value.result.path)).size !== cpuBytes) throw new Error('pull produced a file of the wrong size')
      await rm(dirname(p.value.result.path), { recursive: true, force: true })
      // The app's path again: the same pull by core's pull() in this running process (its CPU by process.cpuUsage).
      await settle()
      const cfg = await loadConfig({ home })
      const u0 = process.cpuUsage()
      const lr = await libraryPull({ cid: cpuCid, config: cfg, name: `wan-cpu-lib-${k}`, fsync: false })
      const u1 = process.cpuUsage(u0)
      if ((await stat(lr.path)).size !== cpuBytes) throw new Error('library pull produced a file of the wrong size')
      await rm(dirname(lr.path), { recursive: true, force: true })
      const libCpu = (u1.user + u1.system) / 1e6
      rounds.push({ c, o, p, curlKuboCpu, pullKuboCpu, libCpu })
      log(`  round ${k + 1}: CPU s pull ${p.cpu.toFixed(2)} (in-process ${libCpu.toFixed(2)}), curl ${c.cpu.toFixed(2)}, openssl ${o.cpu.toFixed(2)}`)
    }
    const median = (xs) => { const v = [...xs].sort((a, b) => a - b); return v[Math.floor(v.length / 2)] }
    const perGiB = (s) => s / (cpuBytes / 2 ** 30)

    return {
      sizeMiB,
      cid,
      gateways: GATEWAYS,
      flaky: FLAKY,
      sumCapsMBps,
      curl: { MBps: mbps(curl.seconds), share: curl.share },
      aria2: aria,
      pull,
      ariaFlaky,
      pullFlaky,
      seaPull,
      seaPullFlaky,
      proxyCpu,
      large,
      lib,
      libLarge,
      libFlaky,
      libLargeFlaky,
      startupSeconds: median(startup),
      cpu: {
        sizeMiB: cpuSizeMiB,
        rounds: rounds.length,
        pull: perGiB(median(rounds.map(r => r.p.cpu))),
        pullRange: [perGiB(Math.min(...rounds.map(r => r.p.cpu))), perGiB(Math.max(...rounds.map(r => r.p.cpu)))],
        pullMBps: cpuBytes / MB / median(rounds.map(r => r.p.seconds)),
        pullKubo: perGiB(median(rounds.map(r => r.pullKuboCpu))),
        pullPeakRssMB: Math.max(...rounds.map(r => r.p.value.maxRssKb)) * 1024 / MB,
        curl: perGiB(median(rounds.map(r => r.c.cpu))),
        curlRange: [perGiB(Math.min(...rounds.map(r => r.c.cpu))), perGiB(Math.max(...rounds.map(r => r.c.cpu)))],
        curlKubo: perGiB(median(rounds.map(r => r.curlKuboCpu))),
        openssl: perGiB(median(rounds.map(r => r.o.cpu))),
        ratio: median(rounds.map(r => r.p.cpu)) / (median(rounds.map(r => r.c.cpu)) + median(rounds.map(r => r.o.cpu))),
        lib: perGiB(median(rounds.map(r => r.libCpu))),
        libRatio: median(rounds.map(r => r.libCpu)) / (median(rounds.map(r => r.c.cpu)) + median(rounds.map(r => r.o.cpu))),
        ratios: rounds.map(r => r.p.cpu / (r.c.cpu + r.o.cpu))
      }
    }
  } finally {
    await wan?.stop().catch(() => {})
    await manager.stop().catch(() => {})
  }
}

const describeGateway = (g) => `${g.name}: RTT ${g.rttMs} ms, ${g.totalRate / MB} MB/s total, ${g.connRate / MB} MB/s per connection`
const shareText = (share) => Object.entries(share ?? {}).map(([n, s]) => `${n} ${s.mb.toFixed(0)} MB/${s.connections} conn${s.resets > 0 ? `/${s.resets} resets` : ''}`).join(', ')
const x = (a, b) => (b == null || !Number.isFinite(b) || b === 0 ? '–' : `${(a / b).toFixed(2)}x`)

/** The rows for BENCHMARKS.md (the console gets the same table). */
export function wanMarkdown (r) {
  const ariaMBps = r.aria2?.MBps
  const pullRow = (what, p, aria) => p.ok
    ? `| ${what} | ${p.MBps.toFixed(1)} | ${x(p.MBps, r.sumCapsMBps)} | ${x(p.MBps, aria)} | peak RSS ${p.peakRssMB.toFixed(0)} MB; from ${shareText(p.share)}${p.failures.length > 0 ? `; dropped ${p.failures.map(f => `${f.source} (${f.reason})`).join(', ')}` : ''} |`
    : `| ${what} | failed | | | ${p.error.replace(/\|/g, '/').replace(/\n/g, ' ')} |`
  const c = r.cpu
  return [
    `### WAN: ${r.sizeMiB} MiB from three emulated gateways in front of one loopback kubo`,
    '',
    `Gateways (tools/wanproxy; delay line of RTT/2 each way, 4 MiB window per connection, a new connection costs one RTT): ${r.gateways.map(describeGateway).join('; ')}. Flaky: ${r.flaky.name}, the fast one resetting ${(r.flaky.resetProb * 100).toFixed(0)}% of its connections at a random point of their first response. MB = 10^6 bytes. The emulator used ${r.proxyCpu.toFixed(1)} CPU s over these runs, on the same cores.`,
    '',
    '| client | MB/s | x sum of caps | x aria2c | notes |',
    '|---|---|---|---|---|',
    pullRow('citrate pull (verified, fsync), the three gateways', r.pull, ariaMBps),
    ...(r.aria2 != null ? [`| aria2c -x8 -s8, the three as mirrors (unverified, no fsync) | ${r.aria2.MBps.toFixed(1)} | ${x(r.aria2.MBps, r.sumCapsMBps)} | 1.00x | from ${shareText(r.aria2.share)} |`] : ['| aria2c | not installed | | | |']),
    `| curl, fast gateway, one connection | ${r.curl.MBps.toFixed(1)} | ${x(r.curl.MBps, r.sumCapsMBps)} | ${x(r.curl.MBps, ariaMBps)} | |`,
    `| the three gateways' caps together (the limit) | ${r.sumCapsMBps.toFixed(0)} | 1.00x | ${x(r.sumCapsMBps, ariaMBps)} | |`,
    pullRow('flaky: citrate pull', r.pullFlaky, r.ariaFlaky?.MBps),
    ...(r.ariaFlaky != null ? [`| flaky: aria2c -x8 -s8 | ${r.ariaFlaky.MBps.toFixed(1)} | ${x(r.ariaFlaky.MBps, r.sumCapsMBps)} | 1.00x | from ${shareText(r.ariaFlaky.share)} |`] : []),
    ...(r.seaPull != null ? [pullRow('packaged single executable (the app\'s sidecar), the three gateways', r.seaPull, ariaMBps)] : []),
    ...(r.seaPullFlaky != null ? [pullRow('flaky: packaged single executable', r.seaPullFlaky, r.ariaFlaky?.MBps)] : []),
    ...(r.large != null
      ? [
          `| ${r.large.sizeMiB} MiB: citrate pull | ${r.large.pull.ok ? r.large.pull.MBps.toFixed(1) : 'failed'} | ${r.large.pull.ok ? x(r.large.pull.MBps, r.sumCapsMBps) : ''} | ${r.large.pull.ok ? x(r.large.pull.MBps, r.large.aria2?.MBps) : ''} | ${r.large.pull.ok ? `peak RSS ${r.large.pull.peakRssMB.toFixed(0)} MB; from ${shareText(r.large.pull.share)}` : r.large.pull.error} |`,
          ...(r.large.aria2 != null ? [`| ${r.large.sizeMiB} MiB: aria2c -x8 -s8 | ${r.large.aria2.MBps.toFixed(1)} | ${x(r.large.aria2.MBps, r.sumCapsMBps)} | 1.00x | |`] : []),
          `| ${r.large.sizeMiB} MiB, flaky: citrate pull | ${r.large.pullFlaky.ok ? r.large.pullFlaky.MBps.toFixed(1) : 'failed'} | ${r.large.pullFlaky.ok ? x(r.large.pullFlaky.MBps, r.sumCapsMBps) : ''} | ${r.large.pullFlaky.ok ? x(r.large.pullFlaky.MBps, r.large.ariaFlaky?.MBps) : ''} | ${r.large.pullFlaky.ok ? `peak RSS ${r.large.pullFlaky.peakRssMB.toFixed(0)} MB; from ${shareText(r.large.pullFlaky.share)}` : r.large.pullFlaky.error} |`,
          ...(r.large.ariaFlaky != null ? [`| ${r.large.sizeMiB} MiB, flaky: aria2c -x8 -s8 | ${r.large.ariaFlaky.MBps.toFixed(1)} | ${x(r.large.ariaFlaky.MBps, r.sumCapsMBps)} | 1.00x | |`] : [])
        ]
      : []),
    ...[[r.sizeMiB, '', r.lib, ariaMBps], [r.large?.sizeMiB, '', r.libLarge, r.large?.aria2?.MBps], [r.sizeMiB, ', flaky', r.libFlaky, r.ariaFlaky?.MBps], [r.large?.sizeMiB, ', flaky', r.libLargeFlaky, r.large?.ariaFlaky?.MBps]]
      .filter(([, , l]) => l != null).map(([size, what, l, aria]) =>
        `| ${size} MiB${what}: library pull in a running process (the service's path: no start-up) | ${l.ok ? l.MBps.toFixed(1) : 'failed'} | ${l.ok ? x(l.MBps, r.sumCapsMBps) : ''} | ${l.ok ? x(l.MBps, aria) : ''} | ${l.ok ? 'same config; core\'s pull() in the bench process' : l.error} |`),
    '',
    `Targets: pull >= 0.85x the sum of caps and >= 1.5x aria2c; flaky >= 0.7x the sum; peak RSS < 150 MB. Every CLI pull row includes the CLI's start-up (\`citrate-ipfs --version\`: ${r.startupSeconds.toFixed(2)} s here, median of 3).`,
    '',
    `| local CPU cost, ${(c.sizeMiB / 1024).toFixed(2)} GiB from the local daemon's gateway (median of ${c.rounds} rounds) | CPU s per GiB | notes |`,
    '|---|---|---|',
    `| citrate pull (verified, fsync = false) | ${c.pull.toFixed(2)} | the pull process, user + system (rounds ${c.pullRange.map(v => v.toFixed(2)).join('–')}); ${c.pullMBps.toFixed(0)} MB/s, peak RSS ${c.pullPeakRssMB.toFixed(0)} MB; kubo serving it: ${c.pullKubo.toFixed(2)} |`,
    `| curl | ${c.curl.toFixed(2)} | rounds ${c.curlRange.map(v => v.toFixed(2)).join('–')}; kubo serving it: ${c.curlKubo.toFixed(2)} |`,
    `| openssl dgst -sha256 over the same bytes | ${c.openssl.toFixed(2)} | one pass, file in the page cache |`,
    `| pull / (curl + openssl) | ${c.ratio.toFixed(2)}x | target <= 1.3x (each round: ${c.ratios.map(v => v.toFixed(2) + 'x').join(', ')}); kubo's CPU is not counted on either side |`,
    `| library pull in a running process (the service's path) | ${c.lib.toFixed(2)} | core's pull() in the bench process, process.cpuUsage(); no start-up to pay |`,
    `| library pull / (curl + openssl) | ${c.libRatio.toFixed(2)}x | target <= 1.3x |`
  ].join('\n')
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : dflt }
  const r = await benchWan({ sizeMiB: arg('--size-mib', 256), largeMiB: arg('--large-mib', 1024), cpuSizeMiB: arg('--cpu-size-mib', 1024) })
  process.stdout.write(wanMarkdown(r) + '\n')
}
