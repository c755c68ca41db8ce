/**
 * kubo's RPC locked with the install's secret, against the real pinned kubo:
 * the daemon our manager starts refuses calls without it and takes ours (pins,
 * publish, gc through it); a repo made before the lock is locked at its next
 * start; a daemon someone else started without it is adopted and reported
 * unprotected; the secret file is 0600 and made once.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import {
  addToKubo, collectGarbage, KuboRpcError, pinAdd, pinList, pinRm, readRpcSecret, toStatusView, type DaemonStatus
} from '../src/index.ts'
import { initRepo } from '../src/daemon/repo.ts'
import { loadOrCreateRpcSecret } from '../src/daemon/rpc-secret.ts'
import { makeTestHome, testKuboBinary, type TestHome } from './helpers/kubo.ts'

const homes: TestHome[] = []
async function home (): Promise<TestHome> {
  const h = await makeTestHome()
  homes.push(h)
  return h
}
after(async () => { for (const h of homes) await h.cleanup() })

const posix = process.platform !== 'win32'

function running (s: DaemonStatus): Extract<DaemonStatus, { state: 'Running' }> {
  assert.equal(s.state, 'Running', `expected Running, got ${JSON.stringify(s)}`)
  return s as Extract<DaemonStatus, { state: 'Running' }>
}

/** A raw RPC call, with or without credentials, as any local program could make it. */
async function rawCall (h: TestHome, command: string, authorization?: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${h.apiPort}/api/v0/${command}`, { method: 'POST', headers: authorization != null ? { authorization } : {} })
  await res.arrayBuffer()
  return res.status
}

async function repoConfig (h: TestHome): Promise<{ API?: { Authorizations?: Record<string, { AuthSecret: string, AllowedPaths: string[] }> } }> {
  return JSON.parse(await readFile(join(h.config.paths.ipfsRepo, 'config'), 'utf8'))
}

async function waitFor (cond: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await cond()) return
    await new Promise(resolve => setTimeout(resolve, 150))
  }
  throw new Error(`condition not met within ${ms} ms`)
}

describe('kubo RPC locked with the install secret (real kubo)', () => {
  test('our daemon refuses calls without the secret, takes ours, and pins, publish and gc work through it', async () => {
    const h = await home()
    await h.manager.start()
    const secret = await readRpcSecret(h.config.paths.rpcSecret)
    assert.ok(secret != null && /^[0-9a-f]{64}$/.test(secret), 'a 32-byte hex secret was made')
    if (posix) {
      assert.equal((await stat(h.config.paths.rpcSecret)).mode & 0o777, 0o600, 'secret file is 0600')
      assert.equal((await stat(join(h.config.paths.ipfsRepo, 'config'))).mode & 0o777, 0o600, 'the repo config holds it too: 0600')
    }
    assert.deepEqual((await repoConfig(h)).API?.Authorizations?.citrate, { AuthSecret: `bearer:${secret}`, AllowedPaths: ['/api/v0'] })

    // Any local program: refused, `version` included; a wrong secret too; ours is let in.
    for (const command of ['id', 'version', 'shutdown']) assert.ok([401, 403].includes(await rawCall(h, command)), `${command} without credentials`)
    assert.ok([401, 403].includes(await rawCall(h, 'id', `Bearer ${'0'.repeat(64)}`)), 'a wrong secret')
    assert.equal(await rawCall(h, 'id', `Bearer ${secret}`), 200)

    const s = running(await h.manager.status())
    assert.equal(s.rpcProtected, true)
    const view = toStatusView(s)
    assert.equal(view.rpcProtected, true)
    assert.ok(!JSON.stringify(view).includes(secret), 'the status never carries the secret')

    const rpc = await h.manager.rpc()
    assert.equal(rpc.authenticated, true)
    assert.ok(!JSON.stringify(rpc).includes(secret) && !inspect(rpc, { showHidden: true }).includes(secret), 'nor does the client when printed')

    // Publish, pin, list, unpin, gc: all through the locked RPC.
    const content = join(h.home, 'content')
    await mkdir(content, { recursive: true })
    await writeFile(join(content, 'w.bin'), Buffer.alloc(300_000, 7))
    const { cid } = await addToKubo(rpc, join(content, 'w.bin'), { pin: false })
    const pinned = await pinAdd(rpc, cid, { timeoutSeconds: 30, name: 'w' })
    assert.equal(pinned.cid, cid)
    const pins: string[] = []
    for await (const p of pinList(rpc, { models: [] })) pins.push(p.cid)
    assert.ok(pins.includes(cid), `listed: ${pins.join(', ')}`)
    await pinRm(rpc, cid, { models: [] })
    const gc = await collectGarbage(rpc, [h.config.paths.models])
    assert.ok(gc.blocksFreed >= 2, `gc freed ${gc.blocksFreed} blocks`)

    // kubo's log never shows it.
    assert.ok(!(await h.manager.logs(500)).includes(secret), 'kubo\'s log does not hold the secret')

    // Stop goes through the locked RPC too; the next start keeps the same secret.
    assert.deepEqual(await h.manager.stop(), { wasRunning: true, method: 'rpc' })
    await h.manager.start()
    assert.equal(await readRpcSecret(h.config.paths.rpcSecret), secret, 'made once per install')
    assert.equal(running(await h.manager.status()).rpcProtected, true)
  })

  test('a repo made before the lock (no Authorizations, no secret) is locked at its next start, keeping other entries', async () => {
    const h = await home()
    const repo = h.config.paths.ipfsRepo
    await initRepo(testKuboBinary(), repo, ['test'])
    const doc = JSON.parse(await readFile(join(repo, 'config'), 'utf8'))
    assert.equal(doc.API?.Authorizations, undefined, 'kubo init leaves the RPC open')
    doc.API = { ...doc.API, Authorizations: { mine: { AuthSecret: 'bearer:users-own-token', AllowedPaths: ['/api/v0/id'] } } }
    await writeFile(join(repo, 'config'), JSON.stringify(doc, null, 2))
    await assert.rejects(stat(h.config.paths.rpcSecret), { code: 'ENOENT' })

    const r = await h.manager.start()
    assert.equal(r.adopted, false)
    assert.equal(r.status.rpcProtected, true)
    const secret = await readRpcSecret(h.config.paths.rpcSecret)
    assert.ok(secret != null)
    if (posix) assert.equal((await stat(h.config.paths.rpcSecret)).mode & 0o777, 0o600)
    const auth = (await repoConfig(h)).API?.Authorizations
    assert.equal(auth?.citrate?.AuthSecret, `bearer:${secret}`)
    assert.ok([401, 403].includes(await rawCall(h, 'id')))
    assert.equal(await rawCall(h, 'id', `Bearer ${secret}`), 200)
    assert.equal(await rawCall(h, 'id', 'Bearer users-own-token'), 200, 'the user\'s own entry still works')
  })

  test('a daemon someone else started without the lock is adopted, keeps working, and is reported unprotected', async () => {
    const h = await home()
    await h.manager.start()
    await h.manager.stop()
    // As the user's own kubo on our repo would be: no Authorizations.
    const doc = JSON.parse(await readFile(join(h.config.paths.ipfsRepo, 'config'), 'utf8'))
    delete doc.API.Authorizations
    await writeFile(join(h.config.paths.ipfsRepo, 'config'), JSON.stringify(doc, null, 2))
    const byHand = spawn(testKuboBinary(), ['daemon', '--offline'], { env: { ...h.env, IPFS_PATH: h.config.paths.ipfsRepo }, stdio: 'ignore' })
    try {
      await waitFor(async () => (await h.manager.status()).state === 'Running', 30_000)
      const s = running(await h.manager.status())
      assert.equal(s.rpcProtected, false)
      assert.equal(toStatusView(s).rpcProtected, false)
      assert.equal(await rawCall(h, 'id'), 200, 'open: as it was configured')

      const r = await h.manager.start()
      assert.equal(r.adopted, true)
      assert.equal(r.status.rpcProtected, false)
      const rpc = await h.manager.rpc()
      const content = join(h.home, 'content')
      await mkdir(content, { recursive: true })
      await writeFile(join(content, 'a.txt'), 'adopted')
      const { cid } = await addToKubo(rpc, join(content, 'a.txt'), { pin: true })
      const pins: string[] = []
      for await (const p of pinList(rpc, { models: [] })) pins.push(p.cid)
      assert.ok(pins.includes(cid), 'our calls (with the header kubo ignores here) work')
    } finally {
      byHand.kill('SIGKILL')
      await new Promise(resolve => byHand.once('exit', resolve))
    }
    // Restarted by us, it is locked.
    await waitFor(async () => (await h.manager.status()).state !== 'Running', 10_000)
    assert.equal((await h.manager.start()).status.rpcProtected, true)
    assert.ok([401, 403].includes(await rawCall(h, 'id')))
  })

  test('a daemon locked with a secret that is not ours: status Error naming the file, start refuses, stop still stops it', async () => {
    const h = await home()
    await h.manager.start()
    // The secret file replaced while the daemon runs (restored from another machine, edited by hand).
    await writeFile(h.config.paths.rpcSecret, 'ab'.repeat(32) + '\n', { mode: 0o600 })
    const s = await h.manager.status()
    assert.equal(s.state, 'Error', JSON.stringify(s))
    assert.ok(s.state === 'Error' && s.code === 'KUBO_RPC_ERROR' && s.message.includes(h.config.paths.rpcSecret) && /refuses/.test(s.message), JSON.stringify(s))
    await assert.rejects(h.manager.start(), (err: Error) => err instanceof KuboRpcError && /refuses/.test(err.message))
    await assert.rejects(h.manager.rpc(), (err: Error) => err instanceof KuboRpcError)
    const stopped = await h.manager.stop()
    assert.equal(stopped.wasRunning, true)
    // Started again, it takes the secret now on file.
    await h.manager.start()
    assert.equal(await rawCall(h, 'id', `Bearer ${'ab'.repeat(32)}`), 200)
  })
})

describe('the RPC secret file', () => {
  test('made once even when many callers race; a loosened mode is tightened; a malformed file is replaced', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'citrate-secret-'))
    try {
      const path = join(dir, 'run', 'kubo-rpc-secret')
      const all = await Promise.all(Array.from({ length: 8 }, async () => await loadOrCreateRpcSecret(path)))
      assert.equal(new Set(all).size, 1, 'one secret for every caller')
      assert.equal((await readFile(path, 'utf8')).trim(), all[0])
      if (posix) {
        assert.equal((await stat(path)).mode & 0o777, 0o600)
        await chmod(path, 0o644)
        assert.equal(await loadOrCreateRpcSecret(path), all[0])
        assert.equal((await stat(path)).mode & 0o777, 0o600, 'tightened back to 0600')
      }
      await writeFile(path, 'not a secret\n')
      assert.equal(await readRpcSecret(path), undefined)
      const fresh = await loadOrCreateRpcSecret(path)
      assert.match(fresh, /^[0-9a-f]{64}$/)
      assert.notEqual(fresh, all[0])
      assert.equal(await readRpcSecret(path), fresh)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
