/**
 * `cluster …`, `add --cluster` and `remote …` through the built CLI, against
 * a real 3-peer IPFS Cluster and its Pinning Service API endpoint: per-peer
 * progress lines, the replicas recorded on the registry entry, secrets kept
 * in 0600 files and never shown, a failing service records nothing, and an
 * unreachable cluster is a clear error.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { Socket } from 'node:net'
import { mkdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { ipfs, makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'
import { startTestCluster, type TestCluster } from '../../core/test/helpers/cluster.ts'
import { writeChachaFile } from '../../core/test/helpers/content.ts'
import { freePort } from '../../core/src/util/ports.ts'
import { cliMain, runCli, type Run } from './helpers/cli.ts'

const lastJson = (r: Run): Record<string, any> => JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') // eslint-disable-line @typescript-eslint/no-explicit-any

/** The CLI with `input` on its stdin (a secret piped in). */
function cliWithInput (h: TestHome, args: string[], input: string): Promise<Run> {
  return new Promise(resolve => {
    const child = execFile(process.execPath, [cliMain, ...args], { env: h.env, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err == null ? 0 : (typeof err.code === 'number' ? err.code : 1), stdout, stderr })
    })
    child.stdin?.end(input)
  })
}

let cluster: TestCluster
let h: TestHome
let file: string
before(async () => {
  cluster = await startTestCluster(3)
  h = await makeTestHome()
  await mkdir(join(h.home, 'content'), { recursive: true })
  file = join(h.home, 'content', 'fleet-model.gguf')
  await writeChachaFile(file, 'fleet-model', 1_500_000)
  await h.manager.start()
})
after(async () => {
  await h?.cleanup()
  await cluster?.stop()
})

describe('citrate-ipfs cluster / add --cluster / remote', () => {
  test('cluster: not configured, connect, status, add --cluster with per-peer lines and replicas recorded, pins, unpin', async () => {
    const [a] = cluster.peers
    assert.ok(a != null)
    const none = await runCli(h, ['cluster', 'status', '--json'])
    assert.equal(none.code, 1)
    assert.equal(lastJson(none).error.code, 'CLUSTER_NOT_CONFIGURED')

    const connected = await runCli(h, ['cluster', 'connect', a.restUrl, '--replication-min', '2', '--replication-max', '2'])
    assert.equal(connected.code, 0, connected.stderr)
    assert.match(connected.stdout, new RegExp(`connected to peer ${a.id} \\(IPFS Cluster 1\\.1\\.0\\)`))
    const toml = await readFile(join(h.home, 'citrate.toml'), 'utf8')
    assert.match(toml, /\[ipfs\.cluster\]\nurl = "http:\/\/127\.0\.0\.1:\d+\/?"\nauth = "none"\nreplication_min = 2\nreplication_max = 2/)

    const st = await runCli(h, ['cluster', 'status'])
    assert.equal(st.code, 0, st.stderr)
    assert.match(st.stdout, /^IPFS Cluster 1\.1\.0 at http:\/\/127\.0\.0\.1:\d+ — 3 peers\n/)
    assert.equal(st.stdout.split('\n').filter(l => /^ {2}peer-\d {2}12D3Koo\S+( \(this one\))? {2}kubo 12D3Koo\S+.* free$/.test(l)).length, 3, st.stdout)

    // The cluster's kubos are closed to the world (ours is offline): the same bytes are in peer 0's kubo, so the cluster can pin.
    const inCluster = (await ipfs(a.kuboRepo, ['add', '-Q', '--pin=false', file])).toString().trim()
    const added = await runCli(h, ['add', file, '--name', 'fleet-model', '--cluster'])
    assert.equal(added.code, 0, added.stderr)
    assert.match(added.stdout, new RegExp(`^${inCluster}  fleet-model\\.gguf .* added to kubo and pinned\\nregistered as fleet-model\\n  ipfs://${inCluster}\\n  http://127\\.0\\.0\\.1:\\d+/ipfs/${inCluster}  \\(this machine's gateway\\)\\npinned on 2 cluster peers \\(2 required\\)\\n$`))
    assert.match(added.stderr, new RegExp(`^cluster pin ${inCluster}: 2 replicas required, allocated to 2 peers\\n`))
    const pinnedLines = added.stderr.split('\n').filter(l => /^ {2}peer-\d {2}pinned$/.test(l))
    assert.equal(new Set(pinnedLines).size, 2, added.stderr)
    assert.match(added.stderr, /^ {2}2\/2 pinned$/m)

    const shown = lastJson(await runCli(h, ['models', 'show', 'fleet-model', '--json']))
    const replicas = shown.model.replicas as Array<{ kind: string, target: string, peers: string[], status: string }>
    assert.equal(replicas.length, 1)
    assert.equal(replicas[0]?.kind, 'cluster')
    assert.equal(replicas[0]?.target, lastJson(await runCli(h, ['config', 'show', '--json'])).cluster.url)
    assert.equal(replicas[0]?.peers.length, 2)
    assert.ok(replicas[0]?.peers.every(p => cluster.peers.some(q => q.id === p)))

    const pins = lastJson(await runCli(h, ['cluster', 'pins', inCluster, '--json']))
    assert.deepEqual(pins.pins[0].peers.map((p: { state: string }) => p.state).sort(), ['pinned', 'pinned', 'remote'])
    const human = await runCli(h, ['cluster', 'pins'])
    assert.match(human.stdout, new RegExp(`^${inCluster}  fleet-model  2/3 peers pinned$`, 'm'))

    const unpinned = await runCli(h, ['cluster', 'unpin', 'fleet-model'])
    assert.equal(unpinned.code, 0, unpinned.stderr)
    assert.equal(unpinned.stdout, `unpinned ${inCluster} from the cluster\n`)
    const after = lastJson(await runCli(h, ['models', 'show', 'fleet-model', '--json']))
    assert.equal(after.model.replicas, undefined)
  })

  test('remote: service add with a token on stdin (0600, never shown), pin add → pinned and recorded, ls, rm; a failing service records nothing', async () => {
    const [, b] = cluster.peers
    assert.ok(b != null)
    const token = 'sekrit-token-4242'
    const added = await cliWithInput(h, ['remote', 'service', 'add', 'fleet', b.pinsvcUrl, '--token-stdin'], `${token}\n`)
    assert.equal(added.code, 0, added.stderr)
    const secretFile = join(h.home, 'secrets', 'remote-fleet.json')
    if (process.platform !== 'win32') {
      assert.equal((await stat(secretFile)).mode & 0o777, 0o600)
      assert.equal((await stat(join(h.home, 'secrets'))).mode & 0o777, 0o700)
    }
    assert.deepEqual(JSON.parse(await readFile(secretFile, 'utf8')), { token })
    assert.ok(!(await readFile(join(h.home, 'citrate.toml'), 'utf8')).includes(token))
    for (const args of [['config', 'show'], ['config', 'show', '--json'], ['remote', 'service', 'ls'], ['remote', 'service', 'ls', '--json']]) {
      const r = await runCli(h, args)
      assert.equal(r.code, 0, r.stderr)
      assert.ok(!r.stdout.includes(token) && !r.stderr.includes(token), `${args.join(' ')} shows no token`)
    }
    assert.match((await runCli(h, ['config', 'show'])).stdout, /\[ipfs\.remote\.fleet\]\nendpoint = "http:\/\/127\.0\.0\.1:\d+\/?"/)
    assert.deepEqual(lastJson(await runCli(h, ['remote', 'service', 'ls', '--json'])).services, [{ name: 'fleet', endpoint: b.pinsvcUrl, hasToken: true }])

    const cid = lastJson(await runCli(h, ['models', 'show', 'fleet-model', '--json']))
    const modelCid = cid.model.cid as string
    const pinned = await runCli(h, ['remote', 'pin', 'add', 'fleet-model', '--service', 'fleet'])
    assert.equal(pinned.code, 0, pinned.stderr)
    assert.match(pinned.stdout, new RegExp(`^pinned ${modelCid} at fleet \\(request ${modelCid}\\)\\nrecorded on fleet-model\\n$`))
    assert.match(pinned.stderr, /^ {2}fleet: pinned \(request \S+\)$/m)
    const entry = lastJson(await runCli(h, ['models', 'show', 'fleet-model', '--json']))
    assert.deepEqual((entry.model.replicas as Array<{ kind: string, target: string, status: string }>).map(r => [r.kind, r.target, r.status]), [['remote', 'fleet', 'pinned']])
    const ls = lastJson(await runCli(h, ['remote', 'pin', 'ls', '--json']))
    assert.deepEqual(ls.pins.map((p: { cid: string, status: string, name: string }) => [p.cid, p.status, p.name]), [[modelCid, 'pinned', 'fleet-model']])

    // A service that answers 500: a clear error, and the entry still records only what really pinned.
    const sockets = new Set<Socket>()
    const broken: Server = createServer((_req, res) => { res.writeHead(500).end('{"error":{"reason":"INTERNAL"}}') })
    broken.on('connection', s => { sockets.add(s) })
    await new Promise<void>(resolve => broken.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(broken.address() as { port: number }).port}`
      assert.equal((await runCli(h, ['remote', 'service', 'add', 'broken', url])).code, 0)
      const failed = await runCli(h, ['remote', 'pin', 'add', 'fleet-model', '--service', 'broken', '--json'])
      assert.equal(failed.code, 1)
      assert.equal(lastJson(failed).error.code, 'PIN_SERVICE_ERROR')
      assert.match(lastJson(failed).error.message, /^pinning service broken: the pin request for \S+ was refused: HTTP 500 \(INTERNAL\)$/)
      const still = lastJson(await runCli(h, ['models', 'show', 'fleet-model', '--json']))
      assert.deepEqual((still.model.replicas as Array<{ target: string }>).map(r => r.target), ['fleet'])
      const several = await runCli(h, ['remote', 'pin', 'add', 'fleet-model'])
      assert.equal(several.code, 2)
      assert.match(several.stderr, /several pinning services are configured \(fleet, broken\): choose one with --service <name>/)
    } finally {
      for (const s of sockets) s.destroy()
      await new Promise(resolve => broken.close(resolve))
    }

    const removed = await runCli(h, ['remote', 'pin', 'rm', 'fleet-model', '--service', 'fleet'])
    assert.equal(removed.code, 0, removed.stderr)
    assert.equal(removed.stdout, `removed 1 request for ${modelCid} at fleet\n`)
    assert.deepEqual(lastJson(await runCli(h, ['remote', 'pin', 'ls', '--service', 'fleet', '--json'])).pins, [])
    const rm = await runCli(h, ['remote', 'service', 'rm', 'fleet'])
    assert.equal(rm.code, 0, rm.stderr)
    await assert.rejects(stat(secretFile), { code: 'ENOENT' })
  })

  test('an unreachable cluster: connect warns, status is a clear CLUSTER_UNREACHABLE with a hint', async () => {
    const url = `http://127.0.0.1:${await freePort()}`
    const connected = await runCli(h, ['cluster', 'connect', url, '--timeout', '3'])
    assert.equal(connected.code, 0, connected.stderr)
    assert.match(connected.stderr, /warning: saved, but the cluster does not answer yet: the IPFS Cluster at http:\/\/127\.0\.0\.1:\d+ is unreachable: ECONNREFUSED/)
    const st = await runCli(h, ['cluster', 'status'])
    assert.equal(st.code, 1)
    assert.match(st.stderr, /^citrate-ipfs: error: the IPFS Cluster at http:\/\/127\.0\.0\.1:\d+ is unreachable: ECONNREFUSED\nhint: check that the cluster peer runs/)
    // A basic-auth password goes to the 0600 file, not the TOML.
    const basic = await cliWithInput(h, ['cluster', 'connect', url, '--user', 'admin', '--password-stdin', '--timeout', '1'], 'pa55word\n')
    assert.equal(basic.code, 0, basic.stderr)
    if (process.platform !== 'win32') assert.equal((await stat(join(h.home, 'secrets', 'cluster.json'))).mode & 0o777, 0o600)
    assert.ok(!(await readFile(join(h.home, 'citrate.toml'), 'utf8')).includes('pa55word'))
    const show = await runCli(h, ['config', 'show'])
    assert.ok(!show.stdout.includes('pa55word'))
    assert.match(show.stdout, /# password = \*{8} \(in .*cluster\.json, mode 0600\)/)
  })
})
