/** A test home whose kubo is online but dials nothing beyond 127.0.0.1 (for what offline kubo refuses: swarm/peers, stats/bw). */
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * Turns a test home's kubo online, still loopback-only: the `test` init profile has no bootstrap peers,
 * no MDNS, no AutoConf or AutoTLS, no delegated routers and a 127.0.0.1 swarm address, so nothing is
 * dialled beyond this machine; online, kubo answers swarm/peers and stats/bw (an offline node refuses both).
 */
export async function goOnlineLoopbackOnly (h: { home: string, reload: () => Promise<void> }): Promise<void> {
  const file = join(h.home, 'citrate.toml')
  const text = await readFile(file, 'utf8')
  assert.ok(/^offline = true$/m.test(text) && /^init_profiles = \["test"\]$/m.test(text), 'a makeTestHome citrate.toml')
  await writeFile(file, text.replace(/^offline = true$/m, 'offline = false'))
  await h.reload()
}
