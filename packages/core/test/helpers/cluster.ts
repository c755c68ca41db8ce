/**
 * The one way tests get a real IPFS Cluster: N peers of the pinned
 * ipfs-cluster-service (tools/cluster, built and cached by the test runner),
 * CRDT consensus, one fixed secret, mDNS off, every listen address on
 * 127.0.0.1, each peer bootstrapped to the ones before it; each with its own kubo.
 *
 * The peers' kubos run from the pinned kubo binary directly, not through our
 * manager: IPFS Cluster 1.1.0's kubo connector (ipfsconn/ipfshttp) has no way
 * to send an Authorization header, so a kubo locked with API.Authorizations
 * (as our manager locks its own) would refuse the cluster. They are online but
 * closed to the world — no bootstrap peers, no MDNS, no routing, no AutoConf,
 * loopback swarm addresses — so blocks move only between the peers' kubos,
 * which the cluster connects to each other (connect_swarms).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../../src/util/ports.ts'
import { ipfs, tcpPeersOf, testKuboBinary } from './kubo.ts'

/** A fixed cluster secret (32 bytes, hex): test clusters are private to this machine anyway. */
export const TEST_CLUSTER_SECRET = 'c17a7e0000000000000000000000000000000000000000000000000000c17a7e'

export interface ClusterPeer {
  index: number
  /** The peer's cluster id (libp2p). */
  id: string
  /** The REST API, e.g. http://127.0.0.1:PORT */
  restUrl: string
  /** The Pinning Service API endpoint. */
  pinsvcUrl: string
  /** Its kubo: repo, RPC and gateway. */
  kuboRepo: string
  kuboApiUrl: string
  kuboGatewayUrl: string
  kuboPid: number
  clusterPid: number
  /** The cluster (libp2p) listen address, 127.0.0.1:PORT. */
  clusterListen: string
}

/** Every socket a process held while watched: its /proc line (`udp 0.0.0.0:5353 -> 0.0.0.0:0`) and when it was first seen, in ms after the process started. */
export interface SocketsSeen {
  pid: number
  /** How many times the process's sockets were read. */
  samples: number
  /** From the spawn to the last sample, in ms. */
  watchedMs: number
  sockets: Map<string, number>
}

/** True when a /proc socket line is bound to loopback and, if connected, connected to loopback only. 0.0.0.0 and [::] count as beyond loopback (every interface). */
export function isLoopbackOnlySocket (line: string): boolean {
  const m = /^\S+ (\S+) -> (\S+)$/.exec(line)
  if (m == null) return false
  const host = (addr: string): string => addr.replace(/:\d+$/, '')
  const loopback = (addr: string): boolean => /^127\./.test(host(addr)) || host(addr) === '[0000:0000:0000:0000:0000:0000:0000:0001]'
  const unconnected = (addr: string): boolean => addr === '0.0.0.0:0' || addr === '[0000:0000:0000:0000:0000:0000:0000:0000]:0'
  return loopback(m[1] ?? '') && (unconnected(m[2] ?? '') || loopback(m[2] ?? ''))
}

/** Reads a process's sockets (/proc/<pid>/fd and /proc/<pid>/net/{tcp,tcp6,udp,udp6}) every 20 ms from its spawn until stopped. */
function watchSockets (pid: number): { seen: SocketsSeen, stop: () => Promise<void> } {
  const start = Date.now()
  const seen: SocketsSeen = { pid, samples: 0, watchedMs: 0, sockets: new Map() }
  let stopped = false
  const loop = (async () => {
    while (!stopped) {
      for (const line of await tcpPeersOf(pid)) if (!seen.sockets.has(line)) seen.sockets.set(line, Date.now() - start)
      seen.samples++
      seen.watchedMs = Date.now() - start
      await new Promise(resolve => setTimeout(resolve, 20))
    }
  })()
  return { seen, stop: async () => { stopped = true; await loop } }
}

export interface TestCluster {
  dir: string
  peers: ClusterPeer[]
  /** Stops every cluster peer and kubo, and removes the folder. */
  stop: () => Promise<void>
  /**
   * With `watchSockets`: waits until every cluster peer has been watched for `ms` after its spawn, then
   * stops watching and gives what each held in that time (peer order).
   */
  socketsSeen: (ms: number) => Promise<SocketsSeen[]>
}

export function testClusterDir (): string {
  const d = process.env.CITRATE_TEST_CLUSTER_DIR
  if (d == null || d === '') throw new Error('CITRATE_TEST_CLUSTER_DIR is not set: run the tests with `npm test`, which builds IPFS Cluster')
  return d
}

async function waitFor<T> (what: string, probe: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms
  let last: unknown
  while (Date.now() < end) {
    try {
      const v = await probe()
      if (v !== undefined) return v
    } catch (err) {
      // A process that exited will not come up: no point waiting out the rest.
      if ((err as { fatal?: boolean }).fatal === true) throw err
      last = err
    }
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error(`${what}: not ready in ${ms} ms${last != null ? ` (${String(last)})` : ''}`)
}

async function editJson (file: string, edit: (doc: Record<string, any>) => void): Promise<void> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const doc = JSON.parse(await readFile(file, 'utf8')) as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
  edit(doc)
  await writeFile(file, JSON.stringify(doc, null, 2))
}

/** A kubo that is online but closed to the world (the peers' kind): no bootstrap, MDNS, routing or AutoConf; loopback only. */
export async function startKubo (repo: string, children: ChildProcess[]): Promise<{ apiUrl: string, gatewayUrl: string, pid: number }> {
  const env = { ...process.env, IPFS_PATH: repo, IPFS_TELEMETRY: 'off' }
  await ipfs(repo, ['init', '--profile', 'test'])
  const [api, gw, swarm] = [await freePort(), await freePort(), await freePort()]
  await editJson(join(repo, 'config'), (doc) => {
    doc.Addresses.API = `/ip4/127.0.0.1/tcp/${api}`
    doc.Addresses.Gateway = `/ip4/127.0.0.1/tcp/${gw}`
    doc.Addresses.Swarm = [`/ip4/127.0.0.1/tcp/${swarm}`]
    doc.Addresses.Announce = []
    doc.Addresses.NoAnnounce = []
    doc.Bootstrap = []
    doc.AutoConf = { ...(doc.AutoConf ?? {}), Enabled: false }
    doc.AutoTLS = { ...(doc.AutoTLS ?? {}), Enabled: false }
    doc.Discovery = { MDNS: { Enabled: false } }
    doc.Routing = { ...(doc.Routing ?? {}), Type: 'none', DelegatedRouters: [] }
    doc.Ipns = { ...(doc.Ipns ?? {}), DelegatedPublishers: [] }
    doc.DNS = { Resolvers: {} }
    doc.Swarm = { ...(doc.Swarm ?? {}), DisableNatPortMap: true, RelayClient: { Enabled: false }, RelayService: { Enabled: false }, Transports: { ...(doc.Swarm?.Transports ?? {}), Network: { ...(doc.Swarm?.Transports?.Network ?? {}), QUIC: false, WebTransport: false, WebRTCDirect: false, Websocket: false } } }
  })
  const child = spawn(testKuboBinary(), ['daemon', '--enable-gc=false'], { env, stdio: 'ignore' })
  children.push(child)
  const apiUrl = `http://127.0.0.1:${api}`
  await waitFor('kubo', async () => (await fetch(`${apiUrl}/api/v0/id`, { method: 'POST' })).ok ? true : undefined, 60_000)
  return { apiUrl, gatewayUrl: `http://127.0.0.1:${gw}`, pid: child.pid ?? 0 }
}

/** Starts a cluster of `n` peers (each with its own kubo); resolves when every peer lists all n. */
export async function startTestCluster (n: number, opts: {
  /** The gateway peer i announces (default: its kubo's). */
  gatewayOf?: (i: number, own: string) => string
  /** Watch every cluster peer's sockets from the moment it is spawned (see TestCluster.socketsSeen). */
  watchSockets?: boolean
} = {}): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'citrate-cluster-'))
  const children: ChildProcess[] = []
  const bin = join(testClusterDir(), process.platform === 'win32' ? 'ipfs-cluster-service.exe' : 'ipfs-cluster-service')
  const peers: ClusterPeer[] = []
  const watches: Array<ReturnType<typeof watchSockets>> = []
  const socketsSeen = async (ms: number): Promise<SocketsSeen[]> => {
    if (opts.watchSockets !== true) throw new Error('startTestCluster: socketsSeen needs { watchSockets: true }')
    while (watches.some(w => w.seen.watchedMs < ms)) await new Promise(resolve => setTimeout(resolve, 100))
    await Promise.all(watches.map(async w => { await w.stop() }))
    return watches.map(w => w.seen)
  }
  const stop = async (): Promise<void> => {
    await Promise.all(watches.map(async w => { await w.stop() }))
    // Cluster peers first (they talk to the kubos), then the kubos; each gets SIGINT, then SIGKILL after 10 s.
    for (const group of [children.filter(c => c.spawnfile === bin), children.filter(c => c.spawnfile !== bin)]) {
      await Promise.all(group.map(async (c) => {
        if (c.exitCode != null || c.signalCode != null) return
        const exited = new Promise(resolve => c.once('exit', resolve))
        c.kill('SIGINT')
        const t = setTimeout(() => { c.kill('SIGKILL') }, 10_000)
        await exited
        clearTimeout(t)
      }))
    }
    await rm(dir, { recursive: true, force: true })
  }
  try {
    // Each new peer is bootstrapped to every earlier one (with mDNS off, a peer learns no address it is not given).
    const bootstrap: string[] = []
    for (let i = 0; i < n; i++) {
      const kuboRepo = join(dir, `kubo-${i}`)
      const kubo = await startKubo(kuboRepo, children)
      const config = join(dir, `cluster-${i}`)
      const env = { ...process.env, CLUSTER_SECRET: TEST_CLUSTER_SECRET }
      await new Promise<void>((resolve, reject) => {
        const c = spawn(bin, ['--config', config, 'init', '--consensus', 'crdt', '--force'], { env, stdio: 'ignore' })
        c.once('exit', code => { if (code === 0) resolve(); else reject(new Error(`ipfs-cluster-service init exited ${String(code)}`)) })
      })
      const [clusterPort, restPort, proxyPort, pinsvcPort] = [await freePort(), await freePort(), await freePort(), await freePort()]
      const kuboApi = new URL(kubo.apiUrl)
      await editJson(join(config, 'service.json'), (doc) => {
        doc.cluster.peername = `peer-${i}`
        doc.cluster.secret = TEST_CLUSTER_SECRET
        doc.cluster.listen_multiaddress = [`/ip4/127.0.0.1/tcp/${clusterPort}`]
        doc.cluster.mdns_interval = '0s'
        doc.cluster.enable_relay_hop = false
        doc.cluster.monitor_ping_interval = '1s'
        doc.api.restapi.http_listen_multiaddress = `/ip4/127.0.0.1/tcp/${restPort}`
        doc.api.ipfsproxy.listen_multiaddress = `/ip4/127.0.0.1/tcp/${proxyPort}`
        doc.api.ipfsproxy.node_multiaddress = `/ip4/127.0.0.1/tcp/${kuboApi.port}`
        doc.api.pinsvcapi.http_listen_multiaddress = `/ip4/127.0.0.1/tcp/${pinsvcPort}`
        doc.ipfs_connector.ipfshttp.node_multiaddress = `/ip4/127.0.0.1/tcp/${kuboApi.port}`
        doc.ipfs_connector.ipfshttp.connect_swarms_delay = '1s'
        // Metrics every second, not every 15 s, so allocation knows every peer's free space soon after start.
        for (const informer of ['disk', 'pinqueue', 'tags']) doc.informer[informer].metric_ttl = '2s'
        // Each peer tells the others where its kubo's gateway is (the tags informer), so pulls can use the fleet as sources.
        doc.informer.tags.tags = { ...(doc.informer.tags.tags ?? {}), gateway: opts.gatewayOf?.(i, kubo.gatewayUrl) ?? kubo.gatewayUrl }
        doc.monitor.pubsubmon.check_interval = '1s'
        // Replicated everywhere unless a pin says otherwise.
        doc.cluster.replication_factor_min = -1
        doc.cluster.replication_factor_max = -1
      })
      const identity = JSON.parse(await readFile(join(config, 'identity.json'), 'utf8')) as { id: string }
      const args = ['--config', config, 'daemon', ...(bootstrap.length > 0 ? ['--bootstrap', bootstrap.join(',')] : [])]
      // Its log goes to a file beside its config, quoted when it does not come up.
      const logFile = join(dir, `cluster-${i}.log`)
      const log = await open(logFile, 'w')
      const child = spawn(bin, args, { env, stdio: ['ignore', log.fd, log.fd] })
      await log.close()
      children.push(child)
      if (opts.watchSockets === true && child.pid != null) watches.push(watchSockets(child.pid))
      const restUrl = `http://127.0.0.1:${restPort}`
      try {
        await waitFor(`cluster peer ${i}`, async () => {
          if (child.exitCode != null || child.signalCode != null) throw Object.assign(new Error(`ipfs-cluster-service exited (${String(child.exitCode ?? child.signalCode)})`), { fatal: true })
          // Not a request before the peer says it is ready: v1.1.0's REST API listens before its RPC client
          // exists, and a call in that window crashes the daemon (nil pointer in go-libp2p-gorpc's makeCall).
          if (!(await readFile(logFile, 'utf8')).includes('** IPFS Cluster is READY **')) return undefined
          return (await fetch(`${restUrl}/id`)).ok ? true : undefined
        }, 90_000)
      } catch (err) {
        const tail = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n')
        throw new Error(`${(err as Error).message}\n--- ${logFile} (last lines) ---\n${tail}`)
      }
      bootstrap.push(`/ip4/127.0.0.1/tcp/${clusterPort}/p2p/${identity.id}`)
      peers.push({ index: i, id: identity.id, restUrl, pinsvcUrl: `http://127.0.0.1:${pinsvcPort}`, kuboRepo, kuboApiUrl: kubo.apiUrl, kuboGatewayUrl: kubo.gatewayUrl, kuboPid: kubo.pid, clusterPid: child.pid ?? 0, clusterListen: `127.0.0.1:${clusterPort}` })
    }
    const kuboIds = await Promise.all(peers.map(async p => ((await (await fetch(`${p.kuboApiUrl}/api/v0/id`, { method: 'POST' })).json()) as { ID: string }).ID))
    // Every peer sees all n (REST /peers streams one JSON object per peer).
    for (const p of peers) {
      await waitFor(`peer ${p.index} sees ${n} peers`, async () => {
        const text = await (await fetch(`${p.restUrl}/peers`)).text()
        const ids = new Set(text.split('\n').filter(l => l.trim() !== '').map(l => (JSON.parse(l) as { id?: string }).id))
        return peers.every(q => ids.has(q.id)) ? true : undefined
      }, 60_000)
      // Its kubo is connected to every other peer's kubo (each peer's connect_swarms, 1 s after it starts), so
      // blocks and `id` lookups between the kubos work from the first test on.
      await waitFor(`peer ${p.index}'s kubo connected to the other ${n - 1}`, async () => {
        const res = await fetch(`${p.kuboApiUrl}/api/v0/swarm/peers`, { method: 'POST' })
        const connected = new Set(((await res.json()) as { Peers?: Array<{ Peer: string }> | null }).Peers?.map(x => x.Peer) ?? [])
        return kuboIds.every((id, j) => j === p.index || connected.has(id)) ? true : undefined
      }, 60_000)
      // Allocation (replication-min/max below n) needs every peer's free-space metric.
      await waitFor(`peer ${p.index} has every peer's freespace metric`, async () => {
        const metrics = await (await fetch(`${p.restUrl}/monitor/metrics/freespace`)).json() as Array<{ peer?: string }>
        return peers.every(q => metrics.some(m => m.peer === q.id)) ? true : undefined
      }, 60_000)
    }
    return { dir, peers, stop, socketsSeen }
  } catch (err) {
    await stop()
    throw err
  }
}
