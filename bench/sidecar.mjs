// The packaged single executable (npm run package) against the Node CLI, side by side in one run:
// size, and wall-clock start-up of `--version` and `status --json` (medians of alternating runs),
// with a kubo beside it and its version already remembered (the state every run after the first is in).
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

function median (xs) { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }

function time (cmd, args, env) {
  const t = process.hrtime.bigint()
  execFileSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'ignore'] })
  return Number(process.hrtime.bigint() - t) / 1e9
}

export async function benchSidecar ({ rounds = 21, log = () => {} } = {}) {
  const { packageSidecar } = await import('../tools/package/package.mjs')
  const dir = mkdtempSync(join(tmpdir(), 'citrate-bench-sidecar-'))
  try {
    const m = await packageSidecar({ out: dir, log })
    const home = join(dir, 'home')
    mkdirSync(join(home, 'run'), { recursive: true })
    writeFileSync(join(home, 'citrate.toml'), '[ipfs]\ndaemon_path = "ipfs"\noffline = true\n')
    const nodeCli = join(root, 'packages', 'cli', 'dist', 'main.js')
    const env = { PATH: join(dir, 'no-bin'), HOME: dir, CITRATE_HOME: home, IPFS_TELEMETRY: 'off' }
    // The Node CLI finds the same kubo through daemon_path; the executable finds it beside itself.
    const kubo = m.kubo?.path
    const nodeHome = join(dir, 'node-home')
    mkdirSync(join(nodeHome, 'run'), { recursive: true })
    writeFileSync(join(nodeHome, 'citrate.toml'), `[ipfs]\ndaemon_path = ${JSON.stringify(kubo)}\noffline = true\n`)
    const nodeEnv = { ...env, CITRATE_HOME: nodeHome }
    const rows = []
    for (const args of [['--version'], ['status', '--json']]) {
      const sea = []
      const node = []
      time(m.executable, args, env); time(process.execPath, [nodeCli, ...args], nodeEnv) // warm the page cache and the version cache
      for (let i = 0; i < rounds; i++) {
        sea.push(time(m.executable, args, env))
        node.push(time(process.execPath, [nodeCli, ...args], nodeEnv))
      }
      rows.push({ command: args.join(' '), sea: median(sea), node: median(node) })
    }
    return { bytes: m.bytes, modules: m.bundle.modules, node: m.node, rounds, rows }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export function sidecarMarkdown (r) {
  return [
    `### Packaged single executable (npm run package), medians of ${r.rounds} alternating runs`,
    '',
    `Size: ${(r.bytes / 1e6).toFixed(1)} MB (Node ${r.node} with the SEA blob: ${r.modules} bundled modules, V8 code cache, the UI as assets).`,
    '',
    '| command | single executable | Node CLI (node dist/main.js) | ratio | target |',
    '| --- | --- | --- | --- | --- |',
    ...r.rows.map(x => `| \`${x.command}\` | ${x.sea.toFixed(3)} s | ${x.node.toFixed(3)} s | ${(x.sea / x.node).toFixed(2)}× | ${x.command.startsWith('status') ? `≤ 0.15 s ${x.sea <= 0.15 ? '✔' : '✘'}` : ''} |`)
  ].join('\n')
}
