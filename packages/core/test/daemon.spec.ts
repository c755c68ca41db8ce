/**
 * The daemon manager against the real, pinned kubo: lifecycle, adoption, and
 * every failure the issue names, each with a clear message, an accurate status
 * and no hang.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { chmod, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  DaemonManager, DaemonPortInUseError, DaemonStartError, KuboNotInstalledError, KuboRepoConfigError, KuboTooOldError,
  RepoLockedError, type DaemonStatus
} from '../src/index.ts'
import { freePort } from '../src/util/ports.ts'
import { isLoopbackOrUnbound, makeTestHome, tcpPeersOf, testKuboBinary, type TestHome } from './helpers/kubo.ts'

const homes: TestHome[] = []
async function home (extra = '', opts: { daemonPath?: string } = {}): Promise<TestHome> {
  const h = await makeTestHome(extra, opts)
  homes.push(h)
  return h
}
after(async () => { for (const h of homes) await h.cleanup() })

/** Fails the test instead of hanging: the operation must settle within `ms`. */
async function within<T> (ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const guard = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms) })
  try {
    return await Promise.race([p, guard])
  } finally {
    clearTimeout(timer)
  }
}

function running (s: DaemonStatus): Extract<DaemonStatus, { state: 'Running' }> {
  assert.equal(s.state, 'Running', `expected Running, got ${JSON.stringify(s)}`)
  return s as Extract<DaemonStatus, { state: 'Running' }>
}

describe('daemon manager (real kubo)', () => {
  test('start → running with a peer id → second start adopts → stop → stopped', async () => {
    const h = await home()
    assert.equal((await h.manager.status()).state, 'Stopped')
    const first = await h.manager.start()
    assert.equal(first.adopted, false)
    const s = running(await h.manager.status())
    assert.match(s.peerId, /^12D3Koo|^Qm/)
    assert.equal(s.apiUrl, `http://127.0.0.1:${h.apiPort}`)
    assert.equal(s.gatewayUrl, `http://127.0.0.1:${h.gatewayPort}`)
    assert.equal(s.kuboVersion, (await h.manager.findBinary()).version)
    const repoConfig = JSON.parse(await readFile(join(h.home, 'ipfs', 'config'), 'utf8'))
    assert.equal(repoConfig.Addresses.API, `/ip4/127.0.0.1/tcp/${h.apiPort}`)
    assert.equal(repoConfig.Addresses.Gateway, `/ip4/127.0.0.1/tcp/${h.gatewayPort}`)
    assert.deepEqual(repoConfig.Bootstrap, [])
    assert.equal(repoConfig.Routing.Type, 'none')

    // A second manager (as a second CLI command would) sees it and adopts it.
    await h.reload()
    const second = await h.manager.start()
    assert.equal(second.adopted, true)
    assert.equal(second.status.pid, first.status.pid)

    // Loopback only: every socket the daemon holds is bound to or connected with 127.0.0.1.
    const pid = first.status.pid
    assert.ok(pid != null)
    const sockets = await tcpPeersOf(pid)
    assert.ok(sockets.length > 0, 'the daemon listens on something')
    for (const line of sockets) {
      const [, local = '', remote = ''] = /^\S+ (\S+) -> (\S+)$/.exec(line) ?? []
      assert.ok(isLoopbackOrUnbound(local) && isLoopbackOrUnbound(remote), `non-loopback socket: ${line}`)
    }

    const stopped = await h.manager.stop()
    assert.deepEqual(stopped, { wasRunning: true, method: 'rpc' })
    assert.equal((await h.manager.status()).state, 'Stopped')
    assert.deepEqual(await h.manager.stop(), { wasRunning: false })
  })

  test('a foreign process on the API port: clear error naming the port, a free port suggested, no hang', async () => {
    const h = await home()
    // Accepts connections and never answers: the worst case for a naive client.
    const silent: Server = createServer(() => {})
    await new Promise<void>(resolve => silent.listen(h.apiPort, '127.0.0.1', resolve))
    try {
      await assert.rejects(within(20_000, 'start', h.manager.start()), (err: Error) => {
        assert.ok(err instanceof DaemonPortInUseError, String(err))
        assert.equal(err.port, h.apiPort)
        assert.match(err.message, new RegExp(`port ${h.apiPort} \\(api_port\\) is already in use`))
        assert.ok(err.suggestedPort != null && err.suggestedPort !== h.apiPort)
        return true
      })
      assert.equal((await within(20_000, 'status', h.manager.status())).state, 'Stopped')
    } finally {
      silent.close()
    }
  })

  test('a foreign process on the gateway port is named too', async () => {
    const h = await home()
    const other: Server = createServer(s => s.end('HTTP/1.1 200 OK\r\n\r\nhello'))
    await new Promise<void>(resolve => other.listen(h.gatewayPort, '127.0.0.1', resolve))
    try {
      await assert.rejects(h.manager.start(), (err: Error) => err instanceof DaemonPortInUseError && err.port === h.gatewayPort && /gateway_port/.test(err.message))
    } finally {
      other.close()
    }
  })

  test('a daemon started by hand on our repo is adopted, never started twice', async () => {
    const h = await home()
    await h.manager.start()
    await h.manager.stop()
    const byHand = spawn(testKuboBinary(), ['daemon', '--offline'], { env: { ...h.env, IPFS_PATH: join(h.home, 'ipfs') }, stdio: 'ignore' })
    try {
      await waitFor(async () => (await h.manager.status()).state === 'Running', 30_000)
      const r = await h.manager.start()
      assert.equal(r.adopted, true)
      assert.equal(r.status.peerId, running(await h.manager.status()).peerId)
    } finally {
      byHand.kill('SIGKILL')
      await new Promise(resolve => byHand.once('exit', resolve))
    }
  })

  test('a repo locked by another daemon that does not serve its API: RepoLockedError, status not Running', async () => {
    const h = await home()
    await h.manager.start()
    await h.manager.stop()
    const locker = spawn(testKuboBinary(), ['daemon', '--offline'], { env: { ...h.env, IPFS_PATH: join(h.home, 'ipfs') }, stdio: 'ignore' })
    try {
      await waitFor(async () => (await h.manager.status()).state === 'Running', 30_000)
      // Hide it from us: without its api file the daemon holds the lock but cannot be found.
      await unlink(join(h.home, 'ipfs', 'api'))
      assert.equal((await h.manager.status()).state, 'Stopped')
      // The locker holds our ports too; move ours so the lock, not the port, is what fails.
      // Free ports asked of the OS (port + 1 was once taken by another test's kubo).
      const apiPort = await freePort()
      let gatewayPort = await freePort()
      while (gatewayPort === apiPort) gatewayPort = await freePort()
      await writeFile(join(h.home, 'citrate.toml'), (await readFile(join(h.home, 'citrate.toml'), 'utf8'))
        .replace(`api_port = ${h.apiPort}`, `api_port = ${apiPort}`)
        .replace(`gateway_port = ${h.gatewayPort}`, `gateway_port = ${gatewayPort}`))
      await h.reload()
      await assert.rejects(within(60_000, 'start', h.manager.start()), (err: Error) => err instanceof RepoLockedError && err.message.includes(join(h.home, 'ipfs')))
      assert.notEqual((await h.manager.status()).state, 'Running')
    } finally {
      locker.kill('SIGKILL')
      await new Promise(resolve => locker.once('exit', resolve))
    }
  })

  test('no kubo installed: status NotInstalled, start says where it looked (the CLI and UI add how to install)', async () => {
    const h = await home('', { daemonPath: 'ipfs-not-installed-here' })
    const emptyBin = await mkdtemp(join(tmpdir(), 'citrate-nobin-'))
    const m = new DaemonManager({ config: h.config, env: { ...h.env, PATH: emptyBin } })
    const s = await m.status()
    assert.equal(s.state, 'NotInstalled')
    await assert.rejects(m.start(), (err: Error) => err instanceof KuboNotInstalledError && err.code === 'KUBO_NOT_INSTALLED' &&
      /not found at daemon_path "ipfs-not-installed-here"/.test(err.message) && !/citrate-ipfs install/.test(err.message))
    await rm(emptyBin, { recursive: true })
  })

  test('a too-old kubo is refused, naming the version found and the one needed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'citrate-oldkubo-'))
    const fake = join(dir, 'ipfs')
    // Stands in for an old release: only its `version --number` answer matters here.
    await writeFile(fake, '#!/bin/sh\necho 0.20.0\n')
    await chmod(fake, 0o755)
    const h = await home('', { daemonPath: fake })
    const s = await h.manager.status()
    assert.equal(s.state, 'Error')
    assert.equal((s as { code: string }).code, 'KUBO_TOO_OLD')
    await assert.rejects(h.manager.start(), (err: Error) => err instanceof KuboTooOldError && /0\.20\.0/.test(err.message) && /0\.36\.0 or newer/.test(err.message))
    await rm(dir, { recursive: true })
  })

  test("a corrupt kubo repo config: a clear error naming the file, status Error", async () => {
    const h = await home()
    await h.manager.start()
    await h.manager.stop()
    const cfgFile = join(h.home, 'ipfs', 'config')
    await writeFile(cfgFile, '{ "Identity": { "PeerID": ')
    await assert.rejects(h.manager.start(), (err: Error) => err instanceof KuboRepoConfigError && err.message.includes(cfgFile))
    const s = await h.manager.status()
    assert.equal(s.state, 'Error')
    assert.equal((s as { code: string }).code, 'KUBO_REPO_CONFIG_INVALID')
  })

  test('a repo config kubo itself rejects: start fails with kubo\'s reason and the log tail', async () => {
    const h = await home()
    await h.manager.start()
    await h.manager.stop()
    const cfgFile = join(h.home, 'ipfs', 'config')
    const doc = JSON.parse(await readFile(cfgFile, 'utf8'))
    doc.Datastore.Spec = { type: 'no-such-datastore' }
    await writeFile(cfgFile, JSON.stringify(doc))
    await assert.rejects(within(60_000, 'start', h.manager.start()), (err: Error) => {
      assert.ok(err instanceof DaemonStartError, String(err))
      assert.match(err.message, /kubo exited during start/)
      assert.ok(err.logTail.length > 0)
      return true
    })
    assert.equal((await h.manager.status()).state, 'Stopped')
  })

  test('kubo killed with SIGKILL: status Error with the log tail, then a fresh start works', async () => {
    const h = await home()
    const { status } = await h.manager.start()
    assert.ok(status.pid != null)
    process.kill(status.pid, 'SIGKILL')
    await waitFor(async () => (await h.manager.status()).state === 'Error', 10_000)
    const s = await h.manager.status()
    assert.equal(s.state, 'Error')
    assert.equal((s as { code: string }).code, 'DAEMON_DIED')
    assert.match((s as { message: string }).message, new RegExp(`pid ${status.pid}`))
    assert.match((s as { logTail: string }).logTail, /Daemon is ready/)
    const again = await h.manager.start()
    assert.equal(again.adopted, false)
    assert.notEqual(again.status.pid, status.pid)
    assert.equal((await h.manager.status()).state, 'Running')
    await h.manager.stop()
    assert.equal((await h.manager.status()).state, 'Stopped')
  })

  test('stop acts only on its own repo: another home\'s daemon keeps running', async () => {
    const a = await home()
    const b = await home()
    await a.manager.start()
    await b.manager.start()
    await a.manager.stop()
    assert.equal((await a.manager.status()).state, 'Stopped')
    assert.equal((await b.manager.status()).state, 'Running')
    await b.manager.stop()
  })

  test('daemon_enabled = false: start refuses, naming the key and the file', async () => {
    const h = await home('daemon_enabled = false')
    await assert.rejects(h.manager.start(), (err: Error & { code?: string }) => err.code === 'DAEMON_DISABLED' && err.message.includes(join(h.home, 'citrate.toml')))
    assert.equal((await h.manager.status()).state, 'Stopped')
  })

  test('logs show the end of kubo\'s output', async () => {
    const h = await home()
    await h.manager.start()
    await h.manager.stop()
    assert.match(await h.manager.logs(100), /Daemon is ready/)
  })
})

async function waitFor (cond: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await cond()) return
    await new Promise(resolve => setTimeout(resolve, 150))
  }
  throw new Error(`condition not met within ${ms} ms`)
}
