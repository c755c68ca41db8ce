/** A test home whose kubo is online but dials nothing beyond 127.0.0.1 (for what offline kubo refuses: swarm/peers, stats/bw). */
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { initRepo } from '../../../core/src/daemon/repo.ts'
import { testKuboBinary } from '../../../core/test/helpers/kubo.ts'

/**
 * Turns a test home's kubo online, still loopback-only: the repo is made now with the `test` init profile
 * (no bootstrap peers, no MDNS, a 127.0.0.1 swarm address), then closed further the way the cluster
 * helper closes its kubos — no routing, no AutoConf or AutoTLS, no NAT port mapping (UPnP/NAT-PMP would
 * ask the LAN's gateway), no relays, TCP only — so nothing is dialled beyond this machine; online, kubo
 * answers swarm/peers and stats/bw (an offline node refuses both).
 */
export async function goOnlineLoopbackOnly (h: { home: string, reload: () => Promise<void> }): Promise<void> {
  const file = join(h.home, 'citrate.toml')
  const text = await readFile(file, 'utf8')
  assert.ok(/^offline = true$/m.test(text) && /^init_profiles = \["test"\]$/m.test(text), 'a makeTestHome citrate.toml')
  await writeFile(file, text.replace(/^offline = true$/m, 'offline = false'))
  await h.reload()
  const repo = join(h.home, 'ipfs')
  await initRepo(testKuboBinary(), repo, ['test'])
  const configFile = join(repo, 'config')
  const doc = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
  doc.Bootstrap = []
  doc.Addresses = { ...doc.Addresses, Swarm: ['/ip4/127.0.0.1/tcp/0'], Announce: [], NoAnnounce: [] }
  doc.Discovery = { MDNS: { Enabled: false } }
  doc.Routing = { ...(doc.Routing ?? {}), Type: 'none', DelegatedRouters: [] }
  doc.AutoConf = { ...(doc.AutoConf ?? {}), Enabled: false }
  doc.AutoTLS = { ...(doc.AutoTLS ?? {}), Enabled: false }
  doc.Ipns = { ...(doc.Ipns ?? {}), DelegatedPublishers: [] }
  doc.Swarm = {
    ...(doc.Swarm ?? {}),
    DisableNatPortMap: true,
    RelayClient: { Enabled: false },
    RelayService: { Enabled: false },
    Transports: { ...(doc.Swarm?.Transports ?? {}), Network: { ...(doc.Swarm?.Transports?.Network ?? {}), QUIC: false, WebTransport: false, WebRTCDirect: false, Websocket: false } }
  }
  await writeFile(configFile, JSON.stringify(doc, null, 2))
}
