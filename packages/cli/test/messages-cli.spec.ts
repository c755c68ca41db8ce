/**
 * The CLI's messages in users' words, run as the built CLI: "did you mean" for
 * mistyped commands, subcommands, options and config keys (exit 2, never the
 * top-level help), examples under every command's --help, `config get/set`
 * keeping a person's citrate.toml as written, and shell completion generated
 * from the command table.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cliMain, runCli } from './helpers/cli.ts'
import { makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'
import { CID } from 'multiformats/cid'
import { didYouMean, editDistance, suggest } from '../src/suggest.ts'

interface Run { code: number, stdout: string, stderr: string }

const dirs: string[] = []
const homes: TestHome[] = []
after(async () => {
  for (const h of homes) await h.cleanup()
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})
async function tempDir (): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'citrate-messages-'))
  dirs.push(d)
  return d
}

function run (file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise(resolve => {
    execFile(file, args, { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err == null ? 0 : (typeof err.code === 'number' ? err.code : 1), stdout, stderr })
    })
  })
}

/** The built CLI against a home of its own (no daemon needed for these commands). */
async function cliIn (home: string, args: string[]): Promise<Run> {
  return await run(process.execPath, [cliMain, ...args], { CITRATE_HOME: home })
}

interface Entry { path: string, subcommands: string[], flags: Array<{ long?: string }> }

describe('did you mean: the distance and the choice', () => {
  test('Damerau–Levenshtein: a swap of neighbours is one edit; close names suggested, far ones not', () => {
    assert.equal(editDistance('pull', 'pull'), 0)
    assert.equal(editDistance('pul', 'pull'), 1)
    assert.equal(editDistance('plul', 'pull'), 1, 'swap')
    assert.equal(editDistance('kitten', 'sitting'), 3)
    assert.equal(editDistance('', 'abc'), 3)
    const commands = ['status', 'install', 'daemon', 'pull', 'pin', 'pins', 'config']
    assert.deepEqual(suggest('stauts', commands), ['status'])
    assert.deepEqual(suggest('pi', commands), ['pin', 'pins'], 'a prefix, on a tie both')
    assert.deepEqual(suggest('conf', commands), ['config'])
    assert.deepEqual(suggest('zzzz', commands), [])
    assert.equal(didYouMean('pinz', commands), ' — did you mean "pin" or "pins"?')
    assert.equal(didYouMean('zzzz', commands), '')
  })
})

describe('did you mean', () => {
  const cases: Array<{ args: string[], says: string }> = [
    { args: ['pul'], says: 'unknown command "pul" — did you mean "pull"?' },
    { args: ['plul'], says: 'unknown command "plul" — did you mean "pull"?' },
    { args: ['pul', '--help'], says: 'unknown command "pul" — did you mean "pull"?' },
    { args: ['help', 'pul'], says: 'unknown command "pul" — did you mean "pull"?' },
    { args: ['--json', 'conifg', 'show'], says: 'unknown command "conifg" — did you mean "config"?' },
    { args: ['daemon', 'lgos'], says: 'unknown daemon command "lgos" — did you mean "logs"?' },
    { args: ['daemon', 'strat', '--help'], says: 'unknown daemon command "strat" — did you mean "start"?' },
    { args: ['models', 'lst'], says: 'unknown models command "lst" — did you mean "list"?' },
    { args: ['pull', '--nme', 'x', 'QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o'], says: 'unknown option \'--nme\' — did you mean "--name"?' },
    { args: ['config', 'get', 'max_model_sz_gb'], says: 'unknown config key "max_model_sz_gb" — did you mean "max_model_size_gb"?' },
    { args: ['config', 'set', 'ipfs.auto_pn', 'true'], says: 'unknown config key "ipfs.auto_pn" — did you mean "auto_pin"?' }
  ]
  for (const { args, says } of cases) {
    test(`${args.join(' ')} → ${says} (exit 2, nothing on stdout)`, async () => {
      const home = await tempDir()
      const r = await cliIn(home, args.filter(a => a !== '--json'))
      assert.equal(r.code, 2, r.stderr)
      assert.equal(r.stdout, '', 'no help text, no output')
      assert.equal(r.stderr, `citrate-ipfs: error: ${says}\n`)
      const j = await cliIn(home, [...args.filter(a => a !== '--json'), '--json'])
      assert.equal(j.code, 2)
      const body = JSON.parse(j.stdout) as { error: { code: string, message: string } }
      assert.ok(['USAGE', 'INVALID_ARGUMENT'].includes(body.error.code), body.error.code)
      assert.equal(body.error.message, says)
    })
  }

  test('a word nothing is close to lists the commands instead; a command that takes arguments is not second-guessed', async () => {
    const home = await tempDir()
    const r = await cliIn(home, ['xyzzyplugh'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^citrate-ipfs: error: unknown command "xyzzyplugh"; the commands are status, install, daemon, .*pull.*\n$/)
    const help = await cliIn(home, ['pull', '--help'])
    assert.equal(help.code, 0, 'a real command with --help is still its help')
    assert.match(help.stdout, /^Usage: citrate-ipfs pull/)
  })
})

describe('examples in --help', () => {
  test('every command, group and the program itself shows an Examples table with commands of its own', async () => {
    const home = await tempDir()
    const table = JSON.parse((await cliIn(home, ['completion', '--json'])).stdout) as Entry[]
    assert.ok(table.length >= 25, `the whole tree (${table.length})`)
    const missing: string[] = []
    for (const { path } of table) {
      const r = await cliIn(home, [...(path === '' ? [] : path.split(' ')), '--help'])
      assert.equal(r.code, 0, `${path} --help: ${r.stderr}`)
      const examples = r.stdout.split('\nExamples:\n')[1]
      const commands = (examples ?? '').split('\n').filter(l => l.startsWith('  ') && !l.startsWith('  #'))
      const own = commands.filter(l => l.includes(`citrate-ipfs ${path}`.trimEnd()))
      if (own.length === 0) missing.push(path === '' ? '(citrate-ipfs)' : path)
    }
    assert.deepEqual(missing, [], 'commands without an example of themselves (add them to packages/cli/src/help.ts)')
  })
})

const PERSONS_TOML = [
  '# Citrate node',
  '[network]',
  'port = 30303   # p2p',
  '',
  '[ipfs]',
  '# size limit: llama 70B q4 is ~40 GB',
  'max_model_size_gb = 20 # raised later',
  'api_port = API',
  'gateway_port = GW',
  '  offline = true',
  '',
  '# kubo gets these at init',
  'init_profiles = [',
  '  "test",',
  ']',
  '',
  '[ipfs.notes]',
  'owner = "ops"',
  '',
  '[mempool]',
  'size = 10',
  ''
].join('\n')

describe('config get / set', () => {
  test('set max_model_size_gb banana is refused naming key and value; 30 persists, changing that one line only', async () => {
    const home = await tempDir()
    const file = join(home, 'citrate.toml')
    const original = PERSONS_TOML.replace('API', '15901').replace('GW', '15902')
    await writeFile(file, original)

    let r = await cliIn(home, ['config', 'set', 'max_model_size_gb', 'banana'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /max_model_size_gb/)
    assert.match(r.stderr, /"banana"/)
    assert.equal(await readFile(file, 'utf8'), original, 'refused: the file as it was')
    r = await cliIn(home, ['config', 'set', 'max_model_size_gb', '-3'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /ipfs\.max_model_size_gb = -3 is invalid: expected a number greater than 0/)

    r = await cliIn(home, ['config', 'set', 'max_model_size_gb', '30'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `ipfs.max_model_size_gb = 30 (in ${file})\n`)
    const text = await readFile(file, 'utf8')
    assert.equal(text, original.replace('max_model_size_gb = 20 # raised later', 'max_model_size_gb = 30 # raised later'),
      'comments, indentation, the multi-line list, [ipfs.notes] and the other tables byte for byte')

    r = await cliIn(home, ['config', 'get', 'max_model_size_gb'])
    assert.equal(r.stdout, '30\n')
    r = await cliIn(home, ['config', 'get', 'ipfs.init_profiles'])
    assert.equal(r.stdout, 'test\n', 'a list one item a line')
    r = await cliIn(home, ['config', 'get', 'pin_timeout_seconds', '--json'])
    assert.deepEqual(JSON.parse(r.stdout), { key: 'pin_timeout_seconds', value: 300, default: true, configFile: file })

    r = await cliIn(home, ['config', 'set', 'auto_pin', 'false'])
    assert.equal(r.code, 0, r.stderr)
    const withNew = await readFile(file, 'utf8')
    assert.equal(withNew, text.replace('  "test",\n]\n', '  "test",\n]\nauto_pin = false\n'), 'a new key after the last key of [ipfs], before [ipfs.notes]')
  })
})

describe('shell completion', () => {
  /** A `citrate-ipfs` on PATH, as an installed CLI is. */
  async function binDir (): Promise<string> {
    const dir = join(await tempDir(), 'bin')
    await mkdir(dir)
    const shim = join(dir, 'citrate-ipfs')
    await writeFile(shim, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(cliMain)} "$@"\n`)
    await chmod(shim, 0o755)
    return dir
  }

  test('bash: `source <(citrate-ipfs completion bash)` registers a function that completes commands, subcommands, flags, choices and keys', async () => {
    const dir = await binDir()
    const complete = async (line: string): Promise<string> => {
      const script = [
        'source <(citrate-ipfs completion bash)',
        'complete -p citrate-ipfs',
        `read -ra COMP_WORDS <<< ${JSON.stringify(`citrate-ipfs ${line}`)}`,
        line.endsWith(' ') ? 'COMP_WORDS+=("")' : ':',
        'COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))',
        '_citrate_ipfs',
        'printf "%s\\n" "${COMPREPLY[@]}"'
      ].join('\n')
      const r = await run('bash', ['-c', script], { PATH: `${dir}:${process.env.PATH ?? ''}` })
      assert.equal(r.code, 0, r.stderr)
      const [registered, ...words] = r.stdout.trimEnd().split('\n')
      assert.equal(registered, 'complete -o filenames -F _citrate_ipfs citrate-ipfs')
      return words.join(' ')
    }
    assert.equal(await complete('pul'), 'pull')
    assert.equal(await complete('pu'), 'pull put')
    assert.equal(await complete('p'), 'pull pin pins put')
    assert.equal(await complete('daemon l'), 'logs')
    assert.equal(await complete('daemon '), 'start stop status logs')
    assert.equal(await complete('models '), 'list show rm verify')
    assert.equal(await complete('pull --ki'), '--kind')
    assert.equal(await complete('pull --kind '), 'model dataset checkpoint asset')
    assert.equal(await complete('config set max_'), 'max_model_size_gb max_download_mbps')
    assert.equal(await complete('completion '), 'bash zsh fish')
    assert.match(await complete('daemon logs -'), /--lines .*-f|--follow/)
  })

  test('zsh and fish scripts: generated from the same table, and accepted by those shells where installed', async () => {
    const dir = await binDir()
    const env = { PATH: `${dir}:${process.env.PATH ?? ''}` }
    const fish = await run('citrate-ipfs', ['completion', 'fish'], env)
    assert.equal(fish.code, 0)
    assert.match(fish.stdout, /^complete -c citrate-ipfs -n '__fish_use_subcommand' -a 'pull' -d 'download a CID/m)
    assert.match(fish.stdout, /^complete -c citrate-ipfs -n '__fish_seen_subcommand_from daemon; and not __fish_seen_subcommand_from start stop status logs' -a 'logs'/m)
    assert.match(fish.stdout, /^complete -c citrate-ipfs -n '__fish_seen_subcommand_from pull' -l kind -r -a 'model dataset checkpoint asset'/m)
    const zsh = await run('citrate-ipfs', ['completion', 'zsh'], env)
    assert.match(zsh.stdout, /bashcompinit/)
    assert.match(zsh.stdout, /complete -o filenames -F _citrate_ipfs citrate-ipfs/)
    const has = async (shell: string): Promise<boolean> => (await run('sh', ['-c', `command -v ${shell}`])).code === 0
    if (await has('fish')) {
      const r = await run('fish', ['-c', 'citrate-ipfs completion fish | source; complete -C"citrate-ipfs daemon l"'], env)
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /^logs\t/m)
    }
    if (await has('zsh')) {
      const r = await run('zsh', ['-c', 'source <(citrate-ipfs completion zsh) && whence -w _citrate_ipfs'], env)
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, '_citrate_ipfs: function\n')
    }
  })
})

describe('CIDs in users\' words', () => {
  // Each of these gets parser jargon from multiformats; core's CID parser says it plainly, and the CLI
  // checks it before asking for a daemon.
  const pasted: Array<{ input: string, jargon: RegExp }> = [
    { input: 'QmShort', jargon: /Invalid CID version/ },
    { input: 'PQmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o', jargon: /multibase decoder must be provided/ },
    { input: 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbz', jargon: /Incorrect length/ },
    { input: 'Qm!!', jargon: /Non-base58btc character/ }
  ]
  for (const { input, jargon } of pasted) {
    test(`pin / unpin / pull / get ${input}: a plain one-line error, code INVALID_CID, exit 2, no daemon needed to say so`, async () => {
      let libraryWords = ''
      try { CID.parse(input) } catch (err) { libraryWords = (err as Error).message }
      assert.match(libraryWords, jargon, 'the case is real: this is what multiformats says')
      const home = await tempDir()
      for (const args of [['pin', input], ['unpin', input], ['pull', input], ['get', input]]) {
        const r = await cliIn(home, args)
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
        assert.equal(r.stderr.split('\n').length, 2, 'one line')
        assert.ok(r.stderr.startsWith(`citrate-ipfs: error: ${JSON.stringify(input)} is not a valid CID`), r.stderr)
        assert.match(r.stderr, /Qm… .*bafy…|bafy… or Qm…|a CIDv0 is 46 characters: Qm and 44 more|looks like a CIDv1 but is damaged/, 'says what a CID looks like, or what is wrong with this one')
        assert.ok(!r.stderr.includes(libraryWords), `no library jargon: ${r.stderr}`)
        assert.doesNotMatch(r.stderr, /daemon/)
        const j = await cliIn(home, [...args, '--json'])
        const body = JSON.parse(j.stdout) as { error: { code: string, message: string } }
        assert.equal(body.error.code, 'INVALID_CID', 'the code kept for scripts')
        assert.ok(!body.error.message.includes(libraryWords))
      }
    })
  }
})

describe('add: ipfs:// and a gateway link', () => {
  test('added to the running kubo: ipfs://<cid> and the daemon\'s own gateway link, which serves the bytes; --json gains url and gatewayUrl', async () => {
    const h = await makeTestHome()
    homes.push(h)
    const file = join(h.home, 'tiny.gguf')
    await writeFile(file, 'GGUF test bytes for the gateway link\n')
    await h.manager.start()
    const r = await runCli(h, ['add', file])
    assert.equal(r.code, 0, r.stderr)
    const cid = r.stdout.split(' ')[0] ?? ''
    assert.match(r.stdout, new RegExp(`^  ipfs://${cid}$`, 'm'))
    const gw = `http://127.0.0.1:${h.gatewayPort}/ipfs/${cid}`
    assert.match(r.stdout, new RegExp(`^  ${gw.replace(/[.]/g, '\\.')}  \\(this machine's gateway\\)$`, 'm'))
    const served = await fetch(gw)
    assert.equal(served.status, 200)
    assert.equal(await served.text(), 'GGUF test bytes for the gateway link\n')

    const j = await runCli(h, ['add', file, '--name', 'tiny2', '--json'])
    const body = JSON.parse(j.stdout.trim().split('\n').at(-1) ?? '') as Record<string, unknown>
    assert.equal(body.cid, cid, 'the fields scripts had are still there')
    assert.equal(body.stored, 'kubo')
    assert.equal(body.url, `ipfs://${cid}`)
    assert.equal(body.gatewayUrl, gw)
  })

  test('not added to kubo (--only-hash): the configured external gateway, else the fallback', async () => {
    const h = await makeTestHome()
    homes.push(h)
    const file = join(h.home, 'x.bin')
    await writeFile(file, 'x')
    let body = JSON.parse((await runCli(h, ['add', file, '--only-hash', '--json'])).stdout.trim().split('\n').at(-1) ?? '') as Record<string, string>
    assert.equal(body.gatewayUrl, `http://127.0.0.1:9/ipfs/${body.cid}`, "the test home's fallback_gateway")
    assert.equal((await runCli(h, ['gateway', 'set', 'https://gw.example.com/'])).code, 0)
    body = JSON.parse((await runCli(h, ['add', file, '--only-hash', '--json'])).stdout.trim().split('\n').at(-1) ?? '') as Record<string, string>
    assert.equal(body.gatewayUrl, `https://gw.example.com/ipfs/${body.cid}`)
    const human = await runCli(h, ['add', file, '--only-hash'])
    assert.match(human.stdout, new RegExp(`\n  ipfs://${body.cid}\n  https://gw\\.example\\.com/ipfs/${body.cid}\n$`))
  })
})
