#!/usr/bin/env node
// The fleet simulation of docs/fleet.md, on loopback: a real IPFS Cluster of
// two peers (the seeds: each with its own kubo, the model pinned on both by
// the cluster) and five plain kubo nodes that all want the model at once.
//
// Two ways of getting it, measured side by side on the same file:
//   gateway  — each node runs `citrate-ipfs pull` with the two seeds' gateways
//              as its sources (the fleet as sources: verified, multi-source);
//              every byte comes from a seed, so the seeds' egress is N × M.
//   swarm    — each node's kubo fetches over bitswap (`ipfs pin add`) while
//              connected to the seeds and to each other, so nodes serve each
//              other the blocks they already hold; the seeds' egress falls
//              between M (one copy leaves the seeds) and N × M.
// For each: seconds until all five have it, bytes served per source, and the
// seeds' egress against docs/fleet.md's formula (gateway: N × M; swarm: the
// bounds M ≤ E ≤ N × M, and the fraction the nodes served each other).
//
// Standalone: `node bench/fleet.mjs [--size-mib 128]` (after `npm run build`);
// from bench/run.mjs: `--only fleet [--fleet-size-mib N]`.
import { spawn } from 'node:child_process'
import { mkdir, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureKubo } from '../tools/kubo/build-kubo.mjs'
import { ensureCluster } from '../tools/cluster/build-cluster.mjs'
import { ensureWanproxy } from '../tools/wanproxy/build.mjs'
import { startWanproxy } from '../tools/wanproxy/client.mjs'
import { makeFile, settle } from './pull.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const cliMain = join(here, '..', 'packages', 'cli', 'dist', 'main.js')
const MB = 1e6
const NODES = 5
const SEEDS = 2
/**
 * Each seed's uplink, through tools/wanproxy (TCP: for its gateway and its libp2p swarm alike): the seeds
 * are the scarce resource the document is about. The nodes' links are loopback, uncapped.
 */
const SEED_LINK = { rttMs: 10, totalRate: 20 * MB, connRate: 20 * MB }

/** `citrate-ipfs pull --json` in a gateway-only home whose sources are the seeds' gateways. */
async function gatewayPull (home, cid, gateways) {
  await rm(home, { recursive: true, force: true })
  await mkdir(home, { recursive: true })
  await writeFile(join(home, 'citrate.toml'), [
    '[ipfs]', 'daemon_enabled = false', 'offline = true', `external_gateway = ${JSON.stringify(gateways[0])}`,
    'fallback_gateway = ""', `public_gateways = ${JSON.stringify(gateways.slice(1))}`, 'fsync = false', 'auto_pin = false'
  ].join('\n') + '\n')
  const env = { ...process.env, CITRATE_HOME: home, IPFS_TELEMETRY: 'off' }
  delete env.CITRATE_IPFS_PUBLIC_GATEWAYS
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliMain, 'pull', cid, '--name', 'fleet-model', '--json'], { stdio: ['ignore', 'pipe', 'pipe'], env })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => { out += d })
    child.stderr.on('data', (d) => { err += d })
    child.on('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? ''
      if (code !== 0) reject(new Error(`pull exited with ${code}: ${(err || last).trim().slice(-400)}`))
      else resolve(JSON.parse(last))
    })
  })
}

export async function benchFleet ({ sizeMiB = 128, log = (m) => process.stderr.write(m + '\n'), workDir = join(here, '.work') } = {}) {
  process.env.CITRATE_TEST_KUBO = ensureKubo({ log })
  process.env.CITRATE_TEST_CLUSTER_DIR = ensureCluster({ log })
  const wanproxy = ensureWanproxy({ log })
  // The tests' one way to a real cluster and closed-to-the-world kubos (TypeScript, run directly by Node 24).
  const { startTestCluster, startKubo } = await import('../packages/core/test/helpers/cluster.ts')
  const { ipfs } = await import('../packages/core/test/helpers/kubo.ts')
  const bytes = sizeMiB * 1024 * 1024
  await mkdir(workDir, { recursive: true })
  const file = join(workDir, `pull-${sizeMiB}MiB.bin`)
  await makeFile(file, bytes)
  const json = async (repo, args) => JSON.parse((await ipfs(repo, [...args, '--enc=json'])).toString())

  log(`bench fleet: a ${SEEDS}-peer cluster (seeds) and ${NODES} nodes, ${sizeMiB} MiB`)
  const cluster = await startTestCluster(SEEDS)
  const nodeDir = join(workDir, 'fleet-nodes')
  const children = []
  const proxies = []
  /** One capped link in front of each seed's `upstream` (a URL whose host:port is proxied). */
  const seedLinks = async (upstreams) => await Promise.all(upstreams.map(async (u, i) => {
    const w = await startWanproxy(wanproxy, u, [{ ...SEED_LINK, name: `seed-${i}` }])
    proxies.push(w)
    return w
  }))
  const egressOf = async (links) => (await Promise.all(links.map(async w => (await w.stats())[0].bytesDown)))
  try {
    const seeds = cluster.peers
    const cid = (await ipfs(seeds[0].kuboRepo, ['add', '-Q', '--pin=false', file])).toString().trim()
    // The cluster replicates it to both seeds (replication factor -1: everywhere).
    const pinned = await fetch(`${seeds[0].restUrl}/pins/${cid}?name=fleet-model`, { method: 'POST' })
    if (!pinned.ok) throw new Error(`cluster pin: HTTP ${pinned.status} ${await pinned.text()}`)
    const t0 = Date.now()
    for (;;) {
      const st = await (await fetch(`${seeds[0].restUrl}/pins/${cid}`)).json()
      const states = Object.values(st.peer_map ?? {}).map(p => p.status)
      if (states.length === SEEDS && states.every(s => s === 'pinned')) break
      if (Date.now() - t0 > 300_000) throw new Error(`cluster replication not done in 300 s: ${states.join(', ')}`)
      await new Promise(resolve => setTimeout(resolve, 200))
    }
    log(`  replicated on ${SEEDS} seeds in ${((Date.now() - t0) / 1000).toFixed(1)} s`)

    // Gateway: five pulls at once, each with both seeds' gateways as sources.
    await settle()
    const gwLinks = await seedLinks(seeds.map(s => s.kuboGatewayUrl))
    const gateways = gwLinks.map(w => w.url(`seed-${gwLinks.indexOf(w)}`))
    const g0 = Date.now()
    const results = await Promise.all(Array.from({ length: NODES }, (_, i) => gatewayPull(join(nodeDir, `gw-${i}`), cid, gateways)))
    const gatewaySeconds = (Date.now() - g0) / 1000
    for (const r of results) if ((await stat(r.path)).size !== bytes) throw new Error('a gateway pull produced a file of the wrong size')
    const perSeedGateway = gateways.map(g => results.reduce((a, r) => a + (r.shares.find(s => s.name.replace(/\/+$/, '') === g)?.bytes ?? 0), 0))
    const gatewayFetched = results.reduce((a, r) => a + r.fetchedBytes, 0)
    const gatewayLinkBytes = await egressOf(gwLinks)
    log(`  gateway: ${NODES} pulls in ${gatewaySeconds.toFixed(1)} s; seeds served ${perSeedGateway.map(b => (b / MB).toFixed(0)).join(' + ')} MB`)
    await rm(nodeDir, { recursive: true, force: true })

    // Swarm: five kubos connected to the seeds and to each other, all pinning at once over bitswap.
    await settle()
    const nodes = []
    for (let i = 0; i < NODES; i++) {
      const repo = join(nodeDir, `kubo-${i}`)
      await mkdir(repo, { recursive: true })
      await startKubo(repo, children)
      nodes.push({ repo })
    }
    const everyone = [...seeds.map(s => ({ repo: s.kuboRepo, seed: true })), ...nodes.map(n => ({ ...n, seed: false }))]
    for (const p of everyone) {
      const id = await json(p.repo, ['id'])
      p.id = id.ID
      p.tcp = id.Addresses.find(a => a.startsWith('/ip4/127.0.0.1/tcp/')).replace(/\/p2p\/.*$/, '')
      p.addr = `${p.tcp}/p2p/${id.ID}`
    }
    // The nodes reach each seed only through its capped link (the same multiaddr with the proxy's port).
    const swarmLinks = await seedLinks(everyone.filter(p => p.seed).map(p => `http://127.0.0.1:${p.tcp.split('/')[4]}`))
    everyone.filter(p => p.seed).forEach((p, i) => {
      p.addr = `/ip4/127.0.0.1/tcp/${new URL(swarmLinks[i].url(`seed-${i}`)).port}/p2p/${p.id}`
    })
    for (const n of everyone.filter(p => !p.seed)) {
      for (const q of everyone) if (q !== n) await ipfs(n.repo, ['swarm', 'connect', q.addr]).catch(() => {})
    }
    const sentBefore = await Promise.all(everyone.map(async p => (await json(p.repo, ['stats', 'bitswap'])).DataSent))
    const s0 = Date.now()
    await Promise.all(nodes.map(n => ipfs(n.repo, ['pin', 'add', '--progress=false', cid])))
    const swarmSeconds = (Date.now() - s0) / 1000
    const after = await Promise.all(everyone.map(async p => await json(p.repo, ['stats', 'bitswap'])))
    const sent = after.map((s, i) => s.DataSent - sentBefore[i])
    const dup = after.slice(SEEDS).reduce((a, s) => a + s.DupDataReceived, 0)
    const swarmLinkBytes = await egressOf(swarmLinks)
    const seedEgress = sent.slice(0, SEEDS).reduce((a, b) => a + b, 0)
    const nodeEgress = sent.slice(SEEDS).reduce((a, b) => a + b, 0)
    log(`  swarm: ${NODES} pins in ${swarmSeconds.toFixed(1)} s; seeds sent ${(seedEgress / MB).toFixed(0)} MB, nodes ${(nodeEgress / MB).toFixed(0)} MB`)
    return {
      sizeMiB, bytes, cid, nodes: NODES, seeds: SEEDS,
      seedLink: SEED_LINK,
      gateway: { seconds: gatewaySeconds, perSeed: perSeedGateway, fetched: gatewayFetched, linkBytes: gatewayLinkBytes },
      swarm: { seconds: swarmSeconds, perSource: sent, seedEgress, nodeEgress, dup, linkBytes: swarmLinkBytes }
    }
  } finally {
    for (const w of proxies) await w.stop()
    for (const c of children) if (c.exitCode == null && c.signalCode == null) c.kill('SIGINT')
    await Promise.all(children.map(c => c.exitCode != null || c.signalCode != null ? undefined : new Promise(resolve => { const t = setTimeout(() => { c.kill('SIGKILL') }, 10_000); c.once('exit', () => { clearTimeout(t); resolve() }) })))
    await cluster.stop()
    await rm(nodeDir, { recursive: true, force: true })
  }
}

export function fleetMarkdown (r) {
  const mb = (b) => (b / MB).toFixed(1)
  const nM = r.nodes * r.bytes
  const g = r.gateway
  const s = r.swarm
  const gSum = g.perSeed.reduce((a, b) => a + b, 0)
  return [
    `### Fleet simulation (docs/fleet.md): ${r.seeds} cluster peers as seeds, ${r.nodes} nodes pulling ${r.sizeMiB} MiB at once, loopback`,
    '',
    `M = ${mb(r.bytes)} MB (${r.cid}), N = ${r.nodes}, S = ${r.seeds}, each seed's uplink capped at u = ${r.seedLink.totalRate / MB} MB/s (tools/wanproxy, RTT ${r.seedLink.rttMs} ms), the nodes' links uncapped.`,
    `Formula (docs/fleet.md): gateway — E = N·M = ${mb(nM)} MB, T ≥ N·M / (S·u) = ${(nM / (r.seeds * r.seedLink.totalRate)).toFixed(1)} s; swarm — E ≥ M = ${mb(r.bytes)} MB, T ≥ M / (S·u) = ${(r.bytes / (r.seeds * r.seedLink.totalRate)).toFixed(1)} s (node uplinks unbounded here).`,
    '',
    '| way | all N have it after | seeds\' egress | per source (MB) | against the formula |',
    '|---|---|---|---|---|',
    `| gateway: \`citrate-ipfs pull\`, the seeds' gateways as sources | ${g.seconds.toFixed(1)} s | ${mb(gSum)} MB | ${g.perSeed.map((b, i) => `seed ${i}: ${mb(b)}`).join(', ')} | E = ${(gSum / nM).toFixed(3)} × N·M (file bytes; ${mb(g.fetched)} MB with the DAG's interior nodes; ${mb(g.linkBytes.reduce((a, b) => a + b, 0))} MB crossed the seeds' links); T = ${(g.seconds / (nM / (r.seeds * r.seedLink.totalRate))).toFixed(2)} × the bound |`,
    `| swarm: kubo bitswap, nodes connected to the seeds and to each other | ${s.seconds.toFixed(1)} s | ${mb(s.seedEgress)} MB | ${s.perSource.map((b, i) => `${i < r.seeds ? `seed ${i}` : `node ${i - r.seeds}`}: ${mb(b)}`).join(', ')} | E = ${(s.seedEgress / r.bytes).toFixed(2)} × M (bounds 1 to ${r.nodes}; ${mb(s.linkBytes.reduce((a, b) => a + b, 0))} MB crossed the seeds' links); nodes served ${(100 * s.nodeEgress / (s.seedEgress + s.nodeEgress)).toFixed(0)}% of what they received; duplicates ${mb(s.dup)} MB; T = ${(s.seconds / (r.bytes / (r.seeds * r.seedLink.totalRate))).toFixed(2)} × the bound |`
  ].join('\n')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--size-mib')
  const r = await benchFleet({ sizeMiB: i > 0 ? Number(process.argv[i + 1]) : 128 })
  process.stdout.write(fleetMarkdown(r) + '\n')
}
