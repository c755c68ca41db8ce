/**
 * The CLI's answer to an error: the exit code (today's numbers kept) and the
 * `hint:` line it adds to core's message, in human and --json output.
 */
import { describe, test } from 'node:test'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import assert from 'node:assert/strict'
import { CLI_ERROR_CODES, ERROR_CODES } from '@citrate-ipfs/contract'
import { DaemonNotRunningError, InvalidArgumentError, KuboNotInstalledError, PinInUseError, TargetExistsError } from '@citrate-ipfs/core'
import { EXIT_CODES, exitCodeFor, hintFor, toCliError, UsageError } from '../src/errors.ts'
import { Output } from '../src/output.ts'

/** An Output writing into strings. */
function capture (json: boolean): { out: Output, stdout: () => string, stderr: () => string } {
  let o = ''
  let e = ''
  const stream = (write: (s: string) => void): NodeJS.WriteStream => ({ write: (s: string) => { write(s); return true }, isTTY: false }) as unknown as NodeJS.WriteStream
  const out = new Output(json, stream(s => { o += s }), stream(s => { e += s }))
  return { out, stdout: () => o, stderr: () => e }
}

describe('CLI exit codes', () => {
  test('2 usage/invalid input/config, 3 kubo missing or too old, 4 daemon not running, 1 otherwise', () => {
    assert.equal(exitCodeFor('USAGE'), 2)
    assert.equal(exitCodeFor('INVALID_ARGUMENT'), 2)
    assert.equal(exitCodeFor('CONFIG_INVALID'), 2)
    assert.equal(exitCodeFor('INVALID_CID'), 2)
    assert.equal(exitCodeFor('INVALID_MODEL_ID'), 2)
    assert.equal(exitCodeFor('KUBO_NOT_INSTALLED'), 3)
    assert.equal(exitCodeFor('KUBO_TOO_OLD'), 3)
    assert.equal(exitCodeFor('DAEMON_NOT_RUNNING'), 4)
    const special = new Set(['USAGE', 'INVALID_ARGUMENT', 'CONFIG_INVALID', 'INVALID_CID', 'INVALID_MODEL_ID', 'KUBO_NOT_INSTALLED', 'KUBO_TOO_OLD', 'DAEMON_NOT_RUNNING'])
    for (const code of ERROR_CODES) if (!special.has(code)) assert.equal(exitCodeFor(code), 1, code)
  })

  test('the map covers exactly core codes and the CLI\'s own', () => {
    assert.deepEqual(Object.keys(EXIT_CODES).sort(), [...ERROR_CODES, ...CLI_ERROR_CODES].sort())
  })
})

describe('CLI hints', () => {
  test('an error with a next step prints it as a second line on stderr', () => {
    const c = capture(false)
    const code = c.out.error(new PinInUseError('bafyroot', ['qwen', 'llama']))
    assert.equal(code, 1)
    assert.equal(c.stderr(),
      'citrate-ipfs: error: bafyroot backs registry model(s) qwen, llama; unpinning it would leave them to garbage collection\n' +
      'hint: pass --force to unpin anyway, or remove the model first (`citrate-ipfs models rm qwen`)\n')
    assert.equal(c.stdout(), '')
  })

  test('with --json the hint is a field of the error object', () => {
    const c = capture(true)
    assert.equal(c.out.error(new KuboNotInstalledError('kubo (ipfs) was not found')), 3)
    assert.deepEqual(JSON.parse(c.stdout()), {
      error: { code: 'KUBO_NOT_INSTALLED', message: 'kubo (ipfs) was not found', hint: 'run `citrate-ipfs install`, or set daemon_path in citrate.toml to a kubo you have' }
    })
  })

  test('no hint line (or field) when the CLI has no next step to add', () => {
    const human = capture(false)
    assert.equal(human.out.error(new InvalidArgumentError('gateway: bad URL')), 2)
    assert.equal(human.stderr(), 'citrate-ipfs: error: gateway: bad URL\n')
    const json = capture(true)
    json.out.error(new InvalidArgumentError('gateway: bad URL'))
    assert.deepEqual(JSON.parse(json.stdout()), { error: { code: 'INVALID_ARGUMENT', message: 'gateway: bad URL' } })
  })

  test('the CLI names the flags and commands core no longer does', () => {
    assert.match(hintFor(toCliError(new TargetExistsError('/m/qwen'))) ?? '', /another --name.*citrate-ipfs models rm/)
    assert.equal(hintFor(toCliError(new DaemonNotRunningError())), 'start it with `citrate-ipfs daemon start`')
    const usage = toCliError(new UsageError("unknown command 'x'"))
    assert.equal(usage.code, 'USAGE')
    assert.equal(exitCodeFor(usage.code), 2)
  })
})

describe('usage errors from the real CLI', () => {
  const cliMain = fileURLToPath(new URL('../dist/main.js', import.meta.url))
  function run (args: string[]): { status: number | null, stdout: string, stderr: string } {
    const r = spawnSync(process.execPath, [cliMain, ...args], { encoding: 'utf8', env: { ...process.env, CITRATE_HOME: '/nonexistent-citrate-usage-test' }, timeout: 30_000 })
    return { status: r.status, stdout: r.stdout, stderr: r.stderr }
  }
  const cases: Array<{ args: string[], says: RegExp }> = [
    { args: ['pull'], says: /missing required argument 'cid'/ },
    { args: ['frobnicate'], says: /unknown command "frobnicate"/ },
    { args: ['pull', '--bogus', 'x'], says: /unknown option '--bogus'/ },
    { args: ['pins', 'extra'], says: /too many arguments/ }
  ]
  for (const { args, says } of cases) {
    test(`${args.join(' ')}: one line on stderr, exit 2; with --json one JSON error on stdout and nothing on stderr`, () => {
      const human = run(args)
      assert.equal(human.status, 2)
      assert.equal(human.stdout, '')
      const lines = human.stderr.trimEnd().split('\n')
      assert.equal(lines.length, 1, `one line, got: ${JSON.stringify(human.stderr)}`)
      assert.match(lines[0] ?? '', says)
      const json = run([...args, '--json'])
      assert.equal(json.status, 2)
      assert.equal(json.stderr, '', 'nothing on stderr')
      const body = JSON.parse(json.stdout) as { error: { code: string, message: string } }
      assert.equal(body.error.code, 'USAGE')
      assert.match(body.error.message, says)
    })
  }
})
