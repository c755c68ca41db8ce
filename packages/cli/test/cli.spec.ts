/**
 * The citrate-ipfs binary end to end, against the real kubo: readable output by
 * default, --json for scripts, one-line errors and non-zero exit codes.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makeTestHome, testKuboBinary, type TestHome } from '../../core/test/helpers/kubo.ts'
import { runCli, type Run } from './helpers/cli.ts'
import { startDistMirror, type DistMirror } from '../../core/test/helpers/dist-mirror.ts'

const cli = runCli
const json = (r: Run): Record<string, unknown> => JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '')

const homes: TestHome[] = []
async function home (extra = '', opts: { daemonPath?: string } = {}): Promise<TestHome> {
  const h = await makeTestHome(extra, opts)
  homes.push(h)
  return h
}
let mirror: DistMirror
before(async () => { mirror = await startDistMirror() })
after(async () => {
  for (const h of homes) await h.cleanup()
  await mirror.close()
})

describe('citrate-ipfs CLI', () => {
  test('the V8 heap flags the CLI sets are ones this Node knows (an unknown one would print an error on every run)', async () => {
    const { HEAP_FLAGS } = await import('../src/heap.ts')
    assert.ok(HEAP_FLAGS.length > 0)
    const r = await new Promise<Run>(resolve => {
      execFile(process.execPath, ['--input-type=module', '-e', `import { setFlagsFromString } from 'node:v8'; for (const f of ${JSON.stringify(HEAP_FLAGS)}) setFlagsFromString(f)`], (err, stdout, stderr) => {
        resolve({ code: err == null ? 0 : 1, stdout, stderr })
      })
    })
    assert.equal(r.code, 0)
    assert.equal(r.stderr, '', 'V8 accepted every flag')
    // And the sanity of the check itself: an unknown flag does print.
    const bad = await new Promise<string>(resolve => {
      execFile(process.execPath, ['-e', "require('node:v8').setFlagsFromString('--no-such-flag-citrate')"], (_err, _stdout, stderr) => { resolve(stderr) })
    })
    assert.match(bad, /unrecognized flag/)
    const version = await cli(await home(), ['--version'])
    assert.equal(version.stderr, '', 'the CLI starts without V8 complaints')
  })

  test('daemon start → status --json running with a peer id → start adopts → stop → status stopped', async () => {
    const h = await home()
    let r = await cli(h, ['status', '--json'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(json(r).state, 'Stopped')

    r = await cli(h, ['daemon', 'start'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^kubo started\n/)
    assert.match(r.stdout, /peer id: 12D3Koo/)

    // The daemon outlived the command that started it; a later command sees it.
    r = await cli(h, ['status', '--json'])
    const s = json(r)
    assert.equal(s.state, 'Running')
    assert.equal(s.running, true)
    assert.equal(s.installed, true)
    assert.equal(s.connected, true, 'the Citrate app reads {connected, peerId}')
    assert.match(String(s.peerId), /^12D3Koo/)
    assert.equal(s.rpcProtected, true, 'the daemon we started has its RPC locked')
    r = await cli(h, ['status'])
    assert.match(r.stdout, /^api: http:\/\/127\.0\.0\.1:\d+ \(locked with this install's secret\)$/m)
    const secret = (await readFile(h.config.paths.rpcSecret, 'utf8')).trim()
    assert.ok(!r.stdout.includes(secret) && !JSON.stringify(s).includes(secret), 'the RPC secret is never printed')

    r = await cli(h, ['daemon', 'start', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const adopted = json(r)
    assert.equal(adopted.adopted, true)
    assert.equal(adopted.peerId, s.peerId)
    assert.equal(adopted.pid, s.pid)

    r = await cli(h, ['daemon', 'logs', '-n', '5'])
    assert.equal(r.code, 0)
    assert.match(r.stdout, /Daemon is ready/)

    r = await cli(h, ['daemon', 'stop'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim(), 'kubo stopped')
    r = await cli(h, ['status'])
    assert.match(r.stdout, /^kubo: stopped/)
    r = await cli(h, ['daemon', 'stop'])
    assert.equal(r.stdout.trim(), 'kubo was not running')
  })

  test('status of a daemon someone started on our repo without the RPC lock: Running, UNPROTECTED, with the fix', async () => {
    const h = await home()
    assert.equal((await cli(h, ['daemon', 'start'])).code, 0)
    assert.equal((await cli(h, ['daemon', 'stop'])).code, 0)
    const repoConfig = join(h.config.paths.ipfsRepo, 'config')
    const doc = JSON.parse(await readFile(repoConfig, 'utf8'))
    delete doc.API.Authorizations
    await writeFile(repoConfig, JSON.stringify(doc, null, 2))
    const byHand = spawn(testKuboBinary(), ['daemon', '--offline'], { env: { ...h.env, IPFS_PATH: h.config.paths.ipfsRepo }, stdio: 'ignore' })
    try {
      let r: Run | undefined
      for (let i = 0; i < 100 && (r == null || json(r).state !== 'Running'); i++) {
        await new Promise(resolve => setTimeout(resolve, 200))
        r = await cli(h, ['status', '--json'])
      }
      assert.ok(r != null)
      assert.equal(json(r).state, 'Running')
      assert.equal(json(r).rpcProtected, false)
      r = await cli(h, ['status'])
      assert.match(r.stdout, /^api: .*UNPROTECTED: open to every program on this machine\)$/m)
      assert.match(r.stdout, /^hint: restart it to lock its RPC: citrate-ipfs daemon stop && citrate-ipfs daemon start$/m)
    } finally {
      byHand.kill('SIGKILL')
      await new Promise(resolve => byHand.once('exit', resolve))
    }
  })

  test('errors: one line on stderr and a non-zero exit; with --json an {error:{code,message}} object', async () => {
    const h = await home()
    let r = await cli(h, ['no-such-command'])
    assert.equal(r.code, 2)
    assert.equal(r.stderr.trim().split('\n').length, 1)
    assert.match(r.stderr, /^citrate-ipfs: error: unknown command "no-such-command"/)
    r = await cli(h, ['no-such-command', '--json'])
    assert.equal(r.code, 2)
    assert.equal((json(r).error as { code: string }).code, 'USAGE')

    r = await cli(h, ['gateway', 'set', 'http://gateway.example.com'])
    assert.equal(r.code, 2)
    assert.equal(r.stderr, 'citrate-ipfs: error: gateway URL "http://gateway.example.com" must use https unless it is on this machine (localhost / 127.0.0.1)\n')

    r = await cli(h, ['--json', 'gateway', 'set', 'nonsense'])
    assert.equal(r.code, 2)
    assert.deepEqual(json(r), { error: { code: 'INVALID_ARGUMENT', message: 'gateway URL "nonsense" has no scheme; write it in full, e.g. https://nonsense' } })

    await writeFile(join(h.home, 'citrate.toml'), '[ipfs]\napi_port = "many"\n')
    r = await cli(h, ['status', '--json'])
    assert.equal(r.code, 2)
    const e = json(r).error as { code: string, message: string }
    assert.equal(e.code, 'CONFIG_INVALID')
    assert.match(e.message, /ipfs\.api_port = "many" is invalid/)
  })

  test('gateway set validates and saves; config show reports it', async () => {
    const h = await home('[network]\nport = 1\n')
    let r = await cli(h, ['gateway', 'set', 'https://gw.example.com/'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(await readFile(join(h.home, 'citrate.toml'), 'utf8'), /external_gateway = "https:\/\/gw\.example\.com"/)
    r = await cli(h, ['config', 'show', '--json'])
    const shown = json(r) as { ipfs: Record<string, unknown>, explicitKeys: string[] }
    assert.equal(shown.ipfs.external_gateway, 'https://gw.example.com')
    assert.ok(shown.explicitKeys.includes('external_gateway'))
    r = await cli(h, ['config', 'show'])
    assert.match(r.stdout, /external_gateway = "https:\/\/gw\.example\.com"/)
    assert.match(r.stdout, /pin_timeout_seconds = 300 {2}# default/)
    r = await cli(h, ['gateway', 'set', 'http://127.0.0.1:8081'])
    assert.equal(r.code, 0, 'http is allowed on loopback')
    r = await cli(h, ['--json', 'gateway', 'set', ''])
    assert.equal(r.code, 0, r.stderr)
    assert.equal((await cli(h, ['config', 'show', '--json']).then(json) as { ipfs: Record<string, unknown> }).ipfs.external_gateway, '', '"" removes the external gateway')
  })

  test('config set turns the fallback and public gateways off with "" and refuses a URL with CR/LF, naming the key', async () => {
    const h = await home('[network]\nport = 1\n')
    await writeFile(join(h.home, 'citrate.toml'), '[ipfs]\ngateway_port = 18080\n\n[network]\nport = 1\n')
    let r = await cli(h, ['config', 'set', 'fallback_gateway', ''])
    assert.equal(r.code, 0, r.stderr)
    r = await cli(h, ['config', 'set', 'public_gateways', ''])
    assert.equal(r.code, 0, r.stderr)
    const shown = await cli(h, ['config', 'show', '--json']).then(json) as { ipfs: Record<string, unknown> }
    assert.equal(shown.ipfs.fallback_gateway, '')
    assert.deepEqual(shown.ipfs.public_gateways, [])
    const text = await readFile(join(h.home, 'citrate.toml'), 'utf8')
    assert.match(text, /fallback_gateway = ""/)
    assert.match(text, /\[network\]\nport = 1/, 'other sections kept')

    r = await cli(h, ['--json', 'config', 'set', 'fallback_gateway', 'http://127.0.0.1:1/\r\nX: y'])
    assert.equal(r.code, 2)
    const e = json(r).error as { code: string, message: string }
    assert.equal(e.code, 'CONFIG_INVALID')
    assert.match(e.message, /ipfs\.fallback_gateway = .* is invalid: gateway URL contains a carriage return \(CR, U\+000D\) at position 20/)
    r = await cli(h, ['--json', 'config', 'set', 'public_gateways', 'https://a.example,javascript:alert(1)'])
    assert.equal(r.code, 2)
    assert.match((json(r).error as { message: string }).message, /ipfs\.public_gateways = .* is invalid: entry 2: gateway URL "javascript:alert\(1\)" must use http or https \(got javascript\)/)
    r = await cli(h, ['--json', 'config', 'set', 'auto_pin', 'maybe'])
    assert.equal(r.code, 2)
    assert.match((json(r).error as { message: string }).message, /ipfs\.auto_pin takes true or false \(got "maybe"\)/)
    r = await cli(h, ['--json', 'config', 'set', 'no_such_key', '1'])
    assert.equal(r.code, 2)
    assert.match((json(r).error as { message: string }).message, /unknown config key "no_such_key"/)
    assert.equal(await readFile(join(h.home, 'citrate.toml'), 'utf8'), text, 'refused values leave the file as it was')
  })

  test('unknown config keys are warned about on stderr', async () => {
    const h = await home('gatway_port = 1')
    const r = await cli(h, ['status'])
    assert.equal(r.code, 0)
    assert.match(r.stderr, /warning: .*unknown key ipfs\.gatway_port/)
  })

  test('not installed → install from a mirror (JSON progress events) → status finds it', async () => {
    const h = await home('', { daemonPath: 'ipfs-citrate-test-absent' })
    const env = { PATH: '/nonexistent' }
    let r = await cli(h, ['status'], env)
    assert.equal(r.code, 0)
    assert.match(r.stdout, /^kubo: not installed/)
    r = await cli(h, ['daemon', 'start'], env)
    assert.equal(r.code, 3)
    // Core's message says what is missing; the CLI's hint line says what to run.
    const [error, hint] = r.stderr.trimEnd().split('\n')
    assert.match(error ?? '', /^citrate-ipfs: error: kubo \(ipfs\) was not found/)
    assert.doesNotMatch(error ?? '', /citrate-ipfs install/)
    assert.match(hint ?? '', /^hint: run `citrate-ipfs install`/)

    r = await cli(h, ['install', '--json', '--version', mirror.version, '--dist-url', mirror.url], env)
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.trim().split('\n').map(l => JSON.parse(l) as { type?: string, installed?: boolean, version?: string })
    assert.equal(lines[0]?.type, 'citrate:install:resolve')
    assert.ok(lines.some(l => l.type === 'citrate:install:download'))
    assert.equal(lines.at(-1)?.installed, true)
    assert.equal(lines.at(-1)?.version, mirror.version)

    r = await cli(h, ['status', '--json'], env)
    assert.equal(json(r).state, 'Stopped')
    assert.equal(json(r).installed, true)
  })
})
