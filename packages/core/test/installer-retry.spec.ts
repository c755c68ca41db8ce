/**
 * The installer's downloads under the one retry policy (net/): transient
 * failures before any byte was written are tried again after a backoff;
 * permanent ones (404) and failures after bytes were written are not.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { InstallError, installKubo } from '../src/index.ts'
import { installerFixture } from './helpers/dist-mirror.ts'
import { startThrottleProxy, type Fault, type ThrottleProxy } from './helpers/throttle-proxy.ts'

const fx = installerFixture()
const { home } = fx
const proxies: ThrottleProxy[] = []
after(async () => { for (const p of proxies) await p.close() })

/** The mirror behind a proxy that answers the archive's GETs per `faults` (in order), then forwards. */
async function flakyMirror (faults: Fault[]): Promise<ThrottleProxy> {
  let archiveGets = 0
  const p = await startThrottleProxy(fx.mirror.url, Infinity, {
    fault: (_n, req) => (req.url ?? '').endsWith('.tar.gz') ? (faults[archiveGets++] ?? 'pass') : 'pass'
  })
  proxies.push(p)
  return p
}

const fast = { backoff: { baseMs: 10, maxMs: 20 } }
const archiveRequests = (): number => fx.mirror.requests.filter(p => p.endsWith('.tar.gz')).length

describe('installer retries (local dist mirror)', () => {
  test('503, 502 and a reset before the first byte: tried again, and the install succeeds', async () => {
    const h = await home()
    const proxy = await flakyMirror([503, 'reset', 502])
    const r = await installKubo({ paths: h.config.paths, version: fx.mirror.version, distUrl: proxy.url, retry: fast })
    assert.equal(r.version, fx.mirror.version)
    assert.equal(proxy.faults, 3)
  })

  test('transient failures every time: gives up after `attempts`, naming the last failure', async () => {
    const h = await home()
    const proxy = await flakyMirror([503, 503, 503, 503])
    await assert.rejects(installKubo({ paths: h.config.paths, version: fx.mirror.version, distUrl: proxy.url, retry: { ...fast, attempts: 3 } }),
      (err: Error) => err instanceof InstallError && err.code === 'INSTALL_DOWNLOAD_FAILED' && /HTTP 503/.test(err.message))
    assert.equal(proxy.faults, 3, 'three tries in all')
  })

  test('a 404 is permanent: asked once', async () => {
    const h = await home()
    const before = fx.mirror.requests.length
    await assert.rejects(installKubo({ paths: h.config.paths, version: 'v0.1.2', distUrl: fx.mirror.url, retry: fast }), /HTTP 404/)
    assert.deepEqual(fx.mirror.requests.slice(before), [`/kubo/v0.1.2/${fx.mirror.archiveName.replace(fx.mirror.version, 'v0.1.2')}.sha512`])
  })

  test('a stall after bytes were written ends the install: reported, not silently started over', async () => {
    const h = await home()
    const path = `/kubo/${fx.mirror.version}/${fx.mirror.archiveName}`
    const before = archiveRequests()
    fx.mirror.stall.add(path)
    try {
      await assert.rejects(installKubo({ paths: h.config.paths, version: fx.mirror.version, distUrl: fx.mirror.url, stallTimeoutMs: 300, retry: fast }),
        (err: Error) => err instanceof InstallError && /no data for 0\.3 s/.test(err.message))
      assert.equal(archiveRequests() - before, 1)
    } finally {
      fx.mirror.stall.delete(path)
    }
  })
})
