import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile, readdir } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, isLoopbackHost, loadConfig, normalizeGatewayUrl, resolveSources, updateIpfsConfig, type GatewaySource } from '../src/index.ts'

const dirs: string[] = []
async function home (toml?: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'citrate-config-'))
  dirs.push(d)
  if (toml != null) await writeFile(join(d, 'citrate.toml'), toml)
  return d
}
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }) })

describe('citrate.toml', () => {
  test('no file: the seed defaults, state under CITRATE_HOME', async () => {
    const h = await home()
    const c = await loadConfig({ home: h })
    assert.equal(c.fileExists, false)
    assert.equal(c.ipfs.daemon_enabled, true)
    assert.equal(c.ipfs.daemon_path, 'ipfs')
    assert.equal(c.ipfs.api_port, 5001)
    assert.equal(c.ipfs.gateway_port, 8080)
    assert.equal(c.ipfs.fallback_gateway, 'https://ipfs.io')
    assert.equal(c.ipfs.use_external_by_default, false)
    assert.equal(c.ipfs.max_model_size_gb, 20)
    assert.equal(c.ipfs.chunk_size_mb, 256)
    assert.equal(c.ipfs.max_download_mbps, 0, 'no bandwidth cap by default')
    assert.equal(c.ipfs.auto_pin, true)
    assert.equal(c.ipfs.pin_timeout_seconds, 300)
    assert.deepEqual(c.ipfs.init_profiles, [])
    assert.equal(c.ipfs.offline, false)
    assert.equal(c.paths.models, join(h, 'models'))
    assert.equal(c.paths.ipfsRepo, join(h, 'ipfs'))
    assert.equal(c.paths.datasets, join(h, 'training', 'datasets'))
    assert.equal(c.paths.checkpoints, join(h, 'training', 'checkpoints'))
  })

  test('values from [ipfs] override defaults; ~ expands; other sections are not ours', async () => {
    const h = await home('[network]\nport = 30303\n\n[ipfs]\napi_port = 5101\nmodels_path = "~/m"\ninit_profiles = ["lowpower"]\noffline = true\n')
    const c = await loadConfig({ home: h })
    assert.equal(c.ipfs.api_port, 5101)
    assert.equal(c.ipfs.models_path, join(homedir(), 'm'))
    assert.equal(c.paths.models, join(homedir(), 'm'))
    assert.deepEqual(c.ipfs.init_profiles, ['lowpower'])
    assert.equal(c.ipfs.offline, true)
    assert.deepEqual(c.warnings, [])
    assert.deepEqual(c.explicitKeys.sort(), ['api_port', 'init_profiles', 'models_path', 'offline'])
  })

  test('unknown keys are warned about, not fatal', async () => {
    const h = await home('[ipfs]\napi_prot = 5001\n')
    const c = await loadConfig({ home: h })
    assert.equal(c.warnings.length, 1)
    assert.match(c.warnings[0] ?? '', /unknown key ipfs\.api_prot/)
  })

  const bad: Array<[string, RegExp]> = [
    ['api_port = 70000', /ipfs\.api_port = 70000 is invalid: expected a port/],
    ['api_port = "5001"', /ipfs\.api_port = "5001" is invalid/],
    ['daemon_enabled = "yes"', /ipfs\.daemon_enabled = "yes" is invalid: expected true or false/],
    ['max_model_size_gb = 0', /ipfs\.max_model_size_gb = 0 is invalid/],
    ['external_gateway = "http://gw.example.com"', /ipfs\.external_gateway = "http:\/\/gw\.example\.com" is invalid: gateway URL must use https/],
    ['fallback_gateway = "ftp://x"', /ipfs\.fallback_gateway/],
    ['init_profiles = "lowpower"', /ipfs\.init_profiles = "lowpower" is invalid/],
    ['max_download_mbps = -1', /ipfs\.max_download_mbps = -1 is invalid: expected a number of 0 or more/],
    ['max_download_mbps = "fast"', /ipfs\.max_download_mbps = "fast" is invalid/],
    ['api_port = 8080', /api_port and ipfs\.gateway_port are both 8080/]
  ]
  for (const [line, re] of bad) {
    test(`invalid: ${line}`, async () => {
      const h = await home(`[ipfs]\n${line}\n`)
      await assert.rejects(loadConfig({ home: h }), (err: Error) => err instanceof ConfigError && re.test(err.message) && err.message.includes('citrate.toml'))
    })
  }

  test('a corrupt file is an error naming the file and line', async () => {
    const h = await home('[ipfs]\napi_port = 5001\ngateway_port = = 3\n')
    await assert.rejects(loadConfig({ home: h }), (err: Error) => err instanceof ConfigError && /citrate\.toml is not valid TOML \(line 3/.test(err.message))
  })

  test('--config names another file', async () => {
    const h = await home()
    const other = join(h, 'elsewhere.toml')
    await writeFile(other, '[ipfs]\ngateway_port = 9999\n')
    const c = await loadConfig({ home: h, configFile: other })
    assert.equal(c.ipfs.gateway_port, 9999)
    assert.equal(c.paths.configFile, other)
  })

  test('updates are validated, written atomically, and keep other sections byte for byte', async () => {
    const original = '# Citrate node\n[network]\nport = 30303 # p2p\n\n[ipfs]\napi_port = 5101\n\n[mempool]\nsize = 10\n'
    const h = await home(original)
    const file = join(h, 'citrate.toml')
    await updateIpfsConfig(file, { external_gateway: 'https://gw.example.com/' })
    const text = await readFile(file, 'utf8')
    assert.match(text, /# Citrate node\n\[network\]\nport = 30303 # p2p\n/)
    assert.match(text, /\[mempool\]\nsize = 10\n/)
    const c = await loadConfig({ home: h })
    assert.equal(c.ipfs.external_gateway, 'https://gw.example.com')
    assert.equal(c.ipfs.api_port, 5101)
    await assert.rejects(updateIpfsConfig(file, { api_port: -1 }), ConfigError)
    await assert.rejects(updateIpfsConfig(file, { nope: 1 } as never), /unknown key ipfs\.nope/)
    assert.equal(await readFile(file, 'utf8'), text, 'a rejected update leaves the file as it was')
    assert.deepEqual((await readdir(h)).filter(f => f.endsWith('.tmp')), [], 'no temp files left behind')
  })

  test('gateway URLs: https required except on loopback', () => {
    assert.equal(normalizeGatewayUrl('https://ipfs.io/'), 'https://ipfs.io')
    assert.equal(normalizeGatewayUrl('http://127.0.0.1:8080'), 'http://127.0.0.1:8080')
    assert.equal(normalizeGatewayUrl('http://localhost:8080/'), 'http://localhost:8080')
    assert.throws(() => normalizeGatewayUrl('http://example.com'), /must use https/)
    assert.throws(() => normalizeGatewayUrl('not a url'), /contains a space at position 4/)
    assert.throws(() => normalizeGatewayUrl('https://u:p@example.com'), /credentials/)
    assert.throws(() => normalizeGatewayUrl('file:///etc/passwd'), /must use http or https \(got file\)/)
  })

  test('gateway URLs are read strictly: no control characters or whitespace, a scheme, http(s) only; stored normalised', () => {
    // WHATWG URL drops CR/LF/tab silently: this one would parse as http://127.0.0.1:1/X:%20y.
    assert.throws(() => normalizeGatewayUrl('http://127.0.0.1:1/\r\nX: y'), /contains a carriage return \(CR, U\+000D\) at position 20/)
    assert.throws(() => normalizeGatewayUrl('http://127.0.0.1:1/\nX'), /line feed/)
    assert.throws(() => normalizeGatewayUrl('http://127.0.0.1:1/a\tb'), /a tab/)
    assert.throws(() => normalizeGatewayUrl(' https://ipfs.io'), /contains a space at position 1/)
    assert.throws(() => normalizeGatewayUrl('https://ipfs.io\u00a0'), /whitespace \(U\+00A0\)/)
    assert.throws(() => normalizeGatewayUrl('https://ipfs.io/\u0000'), /control character \(U\+0000\)/)
    assert.throws(() => normalizeGatewayUrl('javascript:alert(1)'), /must use http or https \(got javascript\)/)
    assert.throws(() => normalizeGatewayUrl('ipfs.io'), /has no scheme; write it in full, e.g. https:\/\/ipfs\.io/)
    assert.throws(() => normalizeGatewayUrl('//ipfs.io'), /has no scheme/)
    assert.throws(() => normalizeGatewayUrl('https://'), /not a valid URL/)
    assert.throws(() => normalizeGatewayUrl('https://ipfs.io/?'), /query or fragment/)
    assert.throws(() => normalizeGatewayUrl(''), /is empty/)
    assert.equal(normalizeGatewayUrl('HTTPS://IPFS.IO:443/'), 'https://ipfs.io')
    assert.equal(normalizeGatewayUrl('http://127.0.0.1:8080/a/../gw/'), 'http://127.0.0.1:8080/gw')
    assert.equal(normalizeGatewayUrl('https://xn--nxasmq6b.example/é'), 'https://xn--nxasmq6b.example/%C3%A9')
  })

  test('fallback_gateway = "", external_gateway = "" and public_gateways = [] turn those sources off', async () => {
    const h = await home('[ipfs]\nfallback_gateway = ""\nexternal_gateway = ""\npublic_gateways = []\n')
    const c = await loadConfig({ home: h })
    assert.equal(c.ipfs.fallback_gateway, '')
    assert.equal(c.ipfs.external_gateway, '')
    assert.deepEqual(c.ipfs.public_gateways, [])
    const { sources } = await resolveSources({ config: c, mode: 'gateway' })
    assert.deepEqual(sources.map(s => s.name), [], 'no gateway at all')

    const file = join(h, 'citrate.toml')
    await updateIpfsConfig(file, { fallback_gateway: 'https://gw.example.com/' })
    assert.equal((await loadConfig({ home: h })).ipfs.fallback_gateway, 'https://gw.example.com')
    await updateIpfsConfig(file, { fallback_gateway: '' })
    assert.equal((await loadConfig({ home: h })).ipfs.fallback_gateway, '')
    await assert.rejects(updateIpfsConfig(file, { public_gateways: ['https://a.example', ''] }), /ipfs\.public_gateways = .* is invalid: entry 2 is empty \(use \[\] for no public gateways\)/)
    await assert.rejects(updateIpfsConfig(file, { dist_url: 'https://dist.example/\r\n' }), /ipfs\.dist_url = .* is invalid: URL contains a carriage return/)
    await updateIpfsConfig(file, { dist_url: 'HTTPS://Dist.Example/mirror/' })
    assert.equal((await loadConfig({ home: h })).ipfs.dist_url, 'https://dist.example/mirror')
  })

  test('offline = true with no gateways named: every source of a pull is on loopback', async () => {
    const h = await home('[ipfs]\noffline = true\ndaemon_enabled = false\n')
    const c = await loadConfig({ home: h })
    assert.equal(c.ipfs.fallback_gateway, '', 'no public fallback by default when offline')
    assert.deepEqual(c.ipfs.public_gateways, [], 'no public gateways by default when offline')
    assert.deepEqual((await resolveSources({ config: c })).sources, [])
    // A gateway the user names still counts, and one on this machine is all there is.
    const h2 = await home('[ipfs]\noffline = true\ndaemon_enabled = false\nexternal_gateway = "http://127.0.0.1:18081"\n')
    const urls = (await resolveSources({ config: await loadConfig({ home: h2 }) })).sources.map(s => (s as GatewaySource).baseUrl)
    assert.deepEqual(urls, ['http://127.0.0.1:18081'])
    for (const u of urls) assert.ok(isLoopbackHost(new URL(u).hostname), u)
    // Named explicitly, the fallback applies even offline.
    const h3 = await home('[ipfs]\noffline = true\nfallback_gateway = "https://ipfs.io"\n')
    assert.equal((await loadConfig({ home: h3 })).ipfs.fallback_gateway, 'https://ipfs.io')
    // Not offline: the defaults are the seed's.
    assert.equal((await loadConfig({ home: await home('[ipfs]\noffline = false\n') })).ipfs.fallback_gateway, 'https://ipfs.io')
  })
})
