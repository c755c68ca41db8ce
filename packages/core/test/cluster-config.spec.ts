/**
 * `[ipfs.cluster]` and `[ipfs.remote.<name>]`: read with defaults, each bad
 * value refused naming its key, kept byte for byte when other keys are set,
 * and secrets only ever in 0600 files under $CITRATE_HOME/secrets.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  clusterClientFromConfig, clusterSecretFile, ConfigError, loadConfig, parseClusterConfig, readSecretFile, updateFleetConfig, updateIpfsConfig, writeSecretFile
} from '../src/index.ts'

const dirs: string[] = []
async function home (toml?: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'citrate-fleet-config-'))
  dirs.push(d)
  if (toml != null) await writeFile(join(d, 'citrate.toml'), toml)
  return d
}
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }) })

describe('[ipfs.cluster] and [ipfs.remote.<name>]', () => {
  test('read with their defaults; no unknown-key warning for the tables', async () => {
    const h = await home('[ipfs]\noffline = true\n\n[ipfs.cluster]\nurl = "https://cluster.example:9094/"\nusername = "ops"\n\n[ipfs.remote.pinata]\nendpoint = "https://api.pinata.cloud/psa"\n')
    const c = await loadConfig({ home: h })
    assert.deepEqual(c.warnings, [])
    assert.deepEqual(c.cluster, { url: 'https://cluster.example:9094', auth: 'basic', username: 'ops', replication_min: 0, replication_max: 0, timeout_seconds: 30, pin_timeout_seconds: 600 })
    assert.deepEqual(c.remotes, { pinata: { name: 'pinata', endpoint: 'https://api.pinata.cloud/psa', timeout_seconds: 30, pin_timeout_seconds: 600 } })
    assert.equal((await loadConfig({ home: await home('[ipfs]\n') })).cluster, undefined)
  })

  const bad: Array<[string, RegExp]> = [
    ['url = "http://cluster.example:9094"', /ipfs\.cluster\.url = "http:\/\/cluster\.example:9094" is invalid: URL must use https unless it is on this machine/],
    ['url = "https://c.example/\\r\\nX: y"', /ipfs\.cluster\.url = .* is invalid: URL contains a carriage return/],
    ['url = "https://user:pw@c.example"', /must not contain credentials/],
    ['url = "https://c.example"\nreplication_min = 3\nreplication_max = 2', /replication_min \(3\) is larger than replication_max \(2\)/],
    ['url = "https://c.example"\nreplication_min = -2', /ipfs\.cluster\.replication_min = -2 is invalid/],
    ['url = "https://c.example"\npassword = "hunter2"', /unknown key ipfs\.cluster\.password/],
    ['url = "https://c.example"\nauth = "basic"', /basic auth needs a user name/],
    ['url = "https://c.example"\ntimeout_seconds = 0', /ipfs\.cluster\.timeout_seconds = 0 is invalid: expected a number of seconds greater than 0/]
  ]
  for (const [lines, message] of bad) {
    test(`refused: ${lines.replace(/\n/g, '; ')}`, async () => {
      const h = await home(`[ipfs.cluster]\n${lines}\n`)
      await assert.rejects(loadConfig({ home: h }), (err: unknown) => err instanceof ConfigError && message.test(err.message) && err.message.startsWith(join(h, 'citrate.toml')))
    })
  }

  test('a remote service with a bad name, endpoint or key is refused', async () => {
    await assert.rejects(loadConfig({ home: await home('[ipfs.remote."a b"]\nendpoint = "https://x.example"\n') }), /pinning service name "a b" is invalid/)
    await assert.rejects(loadConfig({ home: await home('[ipfs.remote.x]\nendpoint = "ftp://x.example"\n') }), /ipfs\.remote\.x\.endpoint = "ftp:\/\/x\.example" is invalid: URL must use http or https/)
    await assert.rejects(loadConfig({ home: await home('[ipfs.remote.x]\nendpoint = "https://x.example"\ntoken = "t"\n') }), /unknown key ipfs\.remote\.x\.token/)
  })

  test('updateFleetConfig writes the tables (no secret), keeps other sections and [ipfs] keys; updateIpfsConfig keeps the tables', async () => {
    const h = await home('[chain]\nrpc = "x"  # theirs\n\n[ipfs]\noffline = true\n')
    const file = join(h, 'citrate.toml')
    await updateFleetConfig(file, { cluster: { url: 'http://127.0.0.1:9094', auth: 'bearer', replication_min: 2, replication_max: 3 }, remote: { fleet: { endpoint: 'http://127.0.0.1:9097' } } })
    await updateIpfsConfig(file, { api_port: 5101 })
    const text = await readFile(file, 'utf8')
    assert.ok(text.startsWith('[chain]\nrpc = "x"  # theirs\n'), text)
    const c = await loadConfig({ home: h })
    assert.equal(c.ipfs.api_port, 5101)
    assert.equal(c.ipfs.offline, true)
    assert.equal(c.cluster?.auth, 'bearer')
    assert.equal(c.cluster?.replication_max, 3)
    assert.deepEqual(Object.keys(c.remotes ?? {}), ['fleet'])
    await assert.rejects(updateFleetConfig(file, { cluster: { url: 'http://10.0.0.1:9094' } }), /must use https/)
    // Comments in [ipfs] and elsewhere survive fleet edits: only the edited sub-tables are rewritten.
    await writeFile(file, '# ours\n[ipfs]\n# keep me\noffline = true  # air-gapped\n\n[ipfs.remote.other]\n# theirs\nendpoint = "https://o.example"\n\n[chain]\nrpc = "x"\n')
    await updateFleetConfig(file, { cluster: { url: 'http://127.0.0.1:9094' }, remote: { fleet: { endpoint: 'http://127.0.0.1:9097' } } })
    assert.equal(await readFile(file, 'utf8'), '# ours\n[ipfs]\n# keep me\noffline = true  # air-gapped\n\n[ipfs.remote.other]\n# theirs\nendpoint = "https://o.example"\n\n' +
      '[ipfs.cluster]\nurl = "http://127.0.0.1:9094"\n\n[ipfs.remote.fleet]\nendpoint = "http://127.0.0.1:9097"\n\n[chain]\nrpc = "x"\n')
    await updateFleetConfig(file, { remote: { other: null } })
    assert.equal(await readFile(file, 'utf8'), '# ours\n[ipfs]\n# keep me\noffline = true  # air-gapped\n\n' +
      '[ipfs.cluster]\nurl = "http://127.0.0.1:9094"\n\n[ipfs.remote.fleet]\nendpoint = "http://127.0.0.1:9097"\n\n[chain]\nrpc = "x"\n')
    await updateFleetConfig(file, { cluster: null, remote: { fleet: null } })
    const cleared = await loadConfig({ home: h })
    assert.equal(cleared.cluster, undefined)
    assert.deepEqual(cleared.remotes, {})
    assert.equal(await readFile(file, 'utf8'), '# ours\n[ipfs]\n# keep me\noffline = true  # air-gapped\n\n[chain]\nrpc = "x"\n')
  })

  test('secrets: 0600 in a 0700 folder; a configured credential that is missing is a clear error', async () => {
    const h = await home()
    const file = clusterSecretFile(h)
    await writeSecretFile(file, { token: 't0k3n' })
    if (process.platform !== 'win32') {
      assert.equal((await stat(file)).mode & 0o777, 0o600)
      assert.equal((await stat(join(h, 'secrets'))).mode & 0o777, 0o700)
    }
    assert.deepEqual(await readSecretFile(file), { token: 't0k3n' })
    const client = await clusterClientFromConfig(parseClusterConfig({ url: 'http://127.0.0.1:9094', auth: 'bearer' }), h)
    assert.ok(!JSON.stringify(client).includes('t0k3n'), 'the credential is a private field')
    await assert.rejects(clusterClientFromConfig(parseClusterConfig({ url: 'http://127.0.0.1:9094', auth: 'basic', username: 'ops' }), h),
      (err: unknown) => err instanceof ConfigError && err.message === `[ipfs.cluster] auth = "basic" but ${file} holds no password`)
  })
})
