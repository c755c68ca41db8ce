#!/usr/bin/env node
// Benchmark: `citrate-ipfs add --only-hash` (our importer) against kubo's
// `ipfs add --only-hash` on the same >= 1 GiB file. Same CID required; prints
// throughput of each and the ratio (ours / kubo; target >= 1.0).
//
// Standalone: `node bench/add.mjs [--size-mib N] [--runs N]` (after `npm run build`).
// From bench/run.mjs: `import { benchAdd } from './add.mjs'; const r = await benchAdd({ log })`.
import { execFile } from 'node:child_process'
import { createCipheriv, createHash } from 'node:crypto'
import { mkdir, open, rm, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { ensureKubo } from '../tools/kubo/build-kubo.mjs'

const execFileAsync = promisify(execFile)
const here = dirname(fileURLToPath(import.meta.url))

async function makeFile (path, bytes) {
  const existing = await stat(path).catch(() => undefined)
  if (existing?.size === bytes) return
  const cipher = createCipheriv('chacha20', createHash('sha256').update('bench-add').digest(), Buffer.alloc(16))
  const fh = await open(path, 'w')
  const piece = Buffer.alloc(8 * 1024 * 1024)
  for (let left = bytes; left > 0; left -= piece.length) await fh.write(cipher.update(left >= piece.length ? piece : piece.subarray(0, left)))
  await fh.close()
}

async function timed (fn) {
  const t0 = process.hrtime.bigint()
  const value = await fn()
  return { value, seconds: Number(process.hrtime.bigint() - t0) / 1e9 }
}

export async function benchAdd ({ sizeMiB = 1024, runs = 3, log = (m) => process.stderr.write(m + '\n'), workDir = join(here, '.work') } = {}) {
  const { hashPath } = await import('../packages/core/dist/index.js')
  const kubo = ensureKubo({ log })
  await mkdir(workDir, { recursive: true })
  const file = join(workDir, `add-${sizeMiB}MiB.bin`)
  const bytes = sizeMiB * 1024 * 1024
  log(`bench add: preparing ${sizeMiB} MiB file`)
  await makeFile(file, bytes)
  const repo = join(workDir, 'kubo-repo')
  const env = { ...process.env, IPFS_PATH: repo, IPFS_TELEMETRY: 'off' }
  await rm(repo, { recursive: true, force: true })
  await execFileAsync(kubo, ['init', '--profile=test'], { env })

  const results = []
  for (const [label, flags, opts] of [
    ['default (CIDv0, 256 KiB)', [], {}],
    ['unixfs-v1-2025', ['--cid-version=1', '--chunker=size-1048576', '--max-file-links=1024'], { profile: 'unixfs-v1-2025' }]
  ]) {
    let oursBest = Infinity
    let kuboBest = Infinity
    let oursCid
    let kuboCid
    // Alternate the two so page-cache warmth is shared fairly; keep the best run of each.
    for (let i = 0; i < runs; i++) {
      const k = await timed(() => execFileAsync(kubo, ['add', '--only-hash', '-Q', ...flags, file], { env, maxBuffer: 1 << 20 }))
      kuboCid = k.value.stdout.trim()
      kuboBest = Math.min(kuboBest, k.seconds)
      const o = await timed(() => hashPath(file, opts))
      oursCid = o.value.cid
      oursBest = Math.min(oursBest, o.seconds)
    }
    const r = {
      label,
      bytes,
      sameCid: oursCid === kuboCid,
      cid: oursCid,
      kuboCid,
      oursSeconds: oursBest,
      kuboSeconds: kuboBest,
      oursMBps: bytes / oursBest / 1e6,
      kuboMBps: bytes / kuboBest / 1e6,
      ratio: kuboBest / oursBest
    }
    log(`bench add [${label}]: ours ${r.oursMBps.toFixed(0)} MB/s, kubo ${r.kuboMBps.toFixed(0)} MB/s, ratio ${r.ratio.toFixed(2)}x, same CID: ${r.sameCid} (${r.cid})`)
    results.push(r)
  }
  return results
}

/** The rows for BENCHMARKS.md. */
export function addMarkdown (results) {
  return [
    '| add --only-hash, 1 file | size | ours | kubo | ours/kubo | same CID |',
    '|---|---|---|---|---|---|',
    ...results.map(r => `| ${r.label} | ${(r.bytes / 2 ** 30).toFixed(2)} GiB | ${r.oursMBps.toFixed(0)} MB/s | ${r.kuboMBps.toFixed(0)} MB/s | ${r.ratio.toFixed(2)}x | ${r.sameCid ? 'yes' : 'NO'} |`)
  ].join('\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : dflt }
  const results = await benchAdd({ sizeMiB: arg('--size-mib', 1024), runs: arg('--runs', 3) })
  process.stdout.write(addMarkdown(results) + '\n')
  if (results.some(r => !r.sameCid)) process.exitCode = 1
}
