/**
 * An air-gapped machine: `offline = true` and no gateway named. Nothing
 * beyond loopback may be a source of a pull, and a pull still works from the
 * local daemon — against a real kubo, with only that config (no `sources` or
 * `publicGateways` passed in, so the config's defaults are what is tested).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { isLoopbackHost, pull, resolveSources, type GatewaySource } from '../src/index.ts'
import { chachaBytes } from './helpers/content.ts'
import { addBytes, isLoopbackOrUnbound, makeTestHome, tcpPeersOf, type TestHome } from './helpers/kubo.ts'

let h: TestHome
let kuboPid: number | undefined
before(async () => {
  h = await makeTestHome('auto_pin = false')
  // The helper names a loopback fallback and no public gateways; drop both so the offline defaults apply.
  const file = join(h.home, 'citrate.toml')
  const toml = (await readFile(file, 'utf8')).split('\n').filter(l => !/^(fallback_gateway|public_gateways)\s*=/.test(l)).join('\n')
  await writeFile(file, toml)
  await h.reload()
  kuboPid = (await h.manager.start()).status.pid
})
after(async () => { await h?.cleanup() })

describe('offline = true with no gateways configured', () => {
  test('the config names no fallback and no public gateways', () => {
    assert.equal(h.config.ipfs.offline, true)
    assert.ok(!h.config.explicitKeys.includes('fallback_gateway') && !h.config.explicitKeys.includes('public_gateways'))
    assert.equal(h.config.ipfs.fallback_gateway, '')
    assert.deepEqual(h.config.ipfs.public_gateways, [])
  })

  test('every source of the list is on loopback: the local daemon alone', async () => {
    const { sources } = await resolveSources({ config: h.config, env: h.env })
    const urls = sources.map(s => (s as GatewaySource).baseUrl)
    assert.equal(urls.length, 1, `sources: ${urls.join(', ')}`)
    for (const u of urls) assert.ok(isLoopbackHost(new URL(u).hostname), `${u} is not on loopback`)
    assert.equal(urls[0], `http://127.0.0.1:${h.gatewayPort}`)
  })

  test('a pull of a CID works from the daemon, and only loopback was asked', async () => {
    const data = chachaBytes('offline-pull', 300 * 1024 + 3)
    const cid = await addBytes(h.config.paths.ipfsRepo, h.home, 'offline.bin', data)
    const r = await pull({ cid, config: h.config, name: 'offline-model', filename: 'offline.bin', env: h.env })
    assert.deepEqual(await readFile(r.path), Buffer.from(data))
    assert.ok(r.shares.length > 0)
    for (const s of r.shares) assert.match(s.name, /127\.0\.0\.1/, `source ${s.name} is not on loopback`)
    assert.ok(kuboPid != null)
    const peers = await tcpPeersOf(kuboPid)
    for (const line of peers) {
      const remote = line.split(' -> ')[1] ?? ''
      assert.ok(isLoopbackOrUnbound(remote), `kubo holds a socket to ${remote}`)
    }
  })
})
