#!/usr/bin/env node
// `npm run bench`: every benchmark on a >= 1 GiB file against the pinned test
// kubo, printed side by side and appended (with machine and date) to BENCHMARKS.md.
//   node bench/run.mjs [--size-mib N] [--wan-size-mib N] [--wan-large-mib N] [--only add|pull|sidecar|wan|fleet] [--fleet-size-mib N] [--no-record]
import { appendFile, readFile } from 'node:fs/promises'
import { cpus, freemem, totalmem, release, platform, arch } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined }
const sizeMiB = Number(opt('--size-mib') ?? 1024)
const only = opt('--only')
const log = (m) => process.stderr.write(m + '\n')

const sections = []
if (only == null || only === 'add') {
  const { benchAdd, addMarkdown } = await import('./add.mjs')
  sections.push(addMarkdown(await benchAdd({ sizeMiB, log })))
}
if (only == null || only === 'pull') {
  const { benchPull, pullMarkdown, formatPullResult } = await import('./pull.mjs')
  const r = await benchPull({ sizeMiB, log })
  log(formatPullResult(r))
  sections.push(pullMarkdown(r))
}
if (only == null || only === 'sidecar') {
  const { benchSidecar, sidecarMarkdown } = await import('./sidecar.mjs')
  const r = await benchSidecar({ log })
  log(sidecarMarkdown(r))
  sections.push(sidecarMarkdown(r))
}
if (only == null || only === 'wan') {
  const { benchWan, wanMarkdown } = await import('./wan.mjs')
  const r = await benchWan({ sizeMiB: Number(opt('--wan-size-mib') ?? 256), largeMiB: Number(opt('--wan-large-mib') ?? 1024), cpuSizeMiB: sizeMiB, log })
  sections.push(wanMarkdown(r))
}
if (only == null || only === 'fleet') {
  const { benchFleet, fleetMarkdown } = await import('./fleet.mjs')
  const r = await benchFleet({ sizeMiB: Number(opt('--fleet-size-mib') ?? 128), log })
  sections.push(fleetMarkdown(r))
}

const cpu = cpus()
const load = (await readFile('/proc/loadavg', 'utf8').catch(() => '')).split(' ').slice(0, 3).join(' ')
const machine = `${cpu[0]?.model ?? 'unknown CPU'} × ${cpu.length}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM (${(freemem() / 2 ** 30).toFixed(1)} free), ${platform()} ${release()} ${arch()}, Node ${process.version}${load !== '' ? `, load average at end ${load}` : ''}`
const report = [`## ${new Date().toISOString()}`, '', `Machine: ${machine}`, '', ...sections.flatMap(s => [s, ''])].join('\n')
process.stdout.write(report + '\n')
if (!args.includes('--no-record')) {
  const file = join(here, '..', 'BENCHMARKS.md')
  const existing = await readFile(file, 'utf8').catch(() => '')
  await appendFile(file, (existing === '' ? '# Benchmarks\n\nAppended by `npm run bench`; newest last.\n\n' : '\n') + report)
  log(`appended to ${file}`)
}
