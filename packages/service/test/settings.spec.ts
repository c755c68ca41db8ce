/**
 * ipfs_get_config's key docs and ipfs_set_config: values validated by core
 * (the error names key and value, and nothing is written), written
 * atomically with the other sections of citrate.toml kept byte for byte, and
 * the keys that need a daemon restart named.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { IPFS_KEYS, loadConfig } from '@citrate-ipfs/core'
import { createClient, CommandError, type CitrateClient } from '@citrate-ipfs/client'
import { startService, type RunningService } from '../src/index.ts'
import { makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'

let h: TestHome
let svc: RunningService
let client: CitrateClient
const OTHER = '[wallet]\n# a comment the settings screen must not touch\nrpc = "http://127.0.0.1:8545"   # spaced\n\n'
let configFile = ''

before(async () => {
  h = await makeTestHome()
  configFile = join(h.home, 'citrate.toml')
  await writeFile(configFile, OTHER + await readFile(configFile, 'utf8') + '\n[models]\nkeep = [1, 2]\n')
  svc = await startService({ home: h.home, port: 0, env: h.env })
  client = createClient({ baseUrl: svc.url, token: svc.token })
})
after(async () => {
  await svc?.close()
  await h?.cleanup()
})

describe('service: settings', () => {
  test('ipfs_get_config explains every [ipfs] key and says which need a restart', async () => {
    const view = await client.invoke('ipfs_get_config')
    assert.deepEqual(view.keys?.map(k => k.key), IPFS_KEYS)
    for (const k of view.keys ?? []) assert.ok(k.description.length > 10, k.key)
    assert.deepEqual(view.keys?.filter(k => k.restart).map(k => k.key).sort(), ['api_port', 'daemon_path', 'gateway_port', 'init_profiles', 'offline'])
  })

  test('a good value is saved and read back; other sections are kept byte for byte; restart-only keys are named', async () => {
    const r = await client.invoke('ipfs_set_config', { values: { max_model_size_gb: 30, auto_pin: false } })
    assert.deepEqual(r.changed.sort(), ['auto_pin', 'max_model_size_gb'])
    assert.deepEqual(r.restartNeeded, [])
    assert.equal(r.ipfs.max_model_size_gb, 30)
    const text = await readFile(configFile, 'utf8')
    assert.ok(text.startsWith(OTHER), 'the section before [ipfs] is untouched')
    assert.ok(text.endsWith('[models]\nkeep = [1, 2]\n'), 'the section after [ipfs] is untouched')
    const cfg = await loadConfig({ home: h.home, env: h.env })
    assert.equal(cfg.ipfs.max_model_size_gb, 30)
    assert.equal(cfg.ipfs.auto_pin, false)
    assert.equal(cfg.ipfs.offline, true, 'keys not sent keep their values')

    const port = await client.invoke('ipfs_set_config', { values: { gateway_port: h.gatewayPort + 1 } })
    assert.deepEqual(port.restartNeeded, ['gateway_port'])
    await client.invoke('ipfs_set_config', { values: { gateway_port: h.gatewayPort } })
  })

  test('a bad value is a 400 naming the key and the value, and nothing is written', async () => {
    const before = await readFile(configFile, 'utf8')
    for (const [values, pattern] of [
      [{ max_model_size_gb: 'banana' }, /ipfs\.max_model_size_gb = "banana" is invalid/],
      [{ api_port: 70000 }, /ipfs\.api_port = 70000 is invalid/],
      [{ external_gateway: 'ftp://x' }, /ipfs\.external_gateway/],
      [{ no_such_key: 1 }, /unknown key ipfs\.no_such_key/]
    ] as const) {
      await assert.rejects(client.invoke('ipfs_set_config', { values }), (err: Error) => err instanceof CommandError && err.status === 400 && err.code === 'CONFIG_INVALID' && pattern.test(err.message), JSON.stringify(values))
    }
    await assert.rejects(client.invoke('ipfs_set_config', { values: {} }), (err: Error) => err instanceof CommandError && err.status === 400)
    assert.equal(await readFile(configFile, 'utf8'), before)
  })
})
