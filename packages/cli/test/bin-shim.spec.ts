/**
 * The `citrate-ipfs` launcher (packages/cli/bin/citrate-ipfs.mjs): the README's
 * `npm ci && npm run build && npx citrate-ipfs` on a fresh clone, with the
 * machine's old Node first on PATH; and the launcher's own answers (not built
 * yet, a Node too old with none bundled, the re-run on the bundled Node).
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const launcher = fileURLToPath(new URL('../bin/citrate-ipfs.mjs', import.meta.url))
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))

interface Run { code: number | null, stdout: string, stderr: string }
function run (file: string, args: string[], opts: { cwd?: string, env?: NodeJS.ProcessEnv, timeout?: number } = {}): Promise<Run> {
  return new Promise(resolve => {
    execFile(file, args, { cwd: opts.cwd, env: opts.env ?? process.env, timeout: opts.timeout ?? 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err == null ? 0 : (typeof err.code === 'number' ? err.code : null), stdout, stderr })
    })
  })
}

/** A node older than 22.12 on PATH outside node_modules (the machines here ship Node 20), if any. */
function oldNode (): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '' || dir.includes('node_modules')) continue
    const candidate = join(dir, process.platform === 'win32' ? 'node.exe' : 'node')
    try {
      const v = execFileSync(candidate, ['--version'], { encoding: 'utf8' }).trim()
      const [major = 0, minor = 0] = v.replace(/^v/, '').split('.').map(Number)
      if (major < 22 || (major === 22 && minor < 12)) return candidate
    } catch { /* not there */ }
  }
  return undefined
}
const old = oldNode()
const noOldNode = old == null ? 'no Node older than 22.12 on PATH to play the machine\'s old Node' : false

/** PATH as a fresh shell has it: the old Node's folder first, nothing from any node_modules. */
function freshPath (): string {
  const rest = (process.env.PATH ?? '').split(delimiter).filter(d => d !== '' && !d.includes('node_modules'))
  return [dirname(old ?? process.execPath), ...rest].join(delimiter)
}

const temps: string[] = []
async function temp (prefix: string): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix))
  temps.push(d)
  return d
}
after(async () => { for (const d of temps) await rm(d, { recursive: true, force: true }) })

/** The launcher in a repository-shaped folder: <root>/packages/cli/bin, with a stand-in dist/main.js if `main` is given. */
async function layout (main?: string): Promise<{ root: string, bin: string }> {
  const root = await temp('citrate-launcher-')
  const bin = join(root, 'packages', 'cli', 'bin', 'citrate-ipfs.mjs')
  await mkdir(dirname(bin), { recursive: true })
  await copyFile(launcher, bin)
  if (main != null) {
    await mkdir(join(root, 'packages', 'cli', 'dist'), { recursive: true })
    await writeFile(join(root, 'packages', 'cli', 'dist', 'main.js'), main)
  }
  return { root, bin }
}

/** Stands in for the built CLI: says which Node runs it and with what, and exits 7. */
const PROBE = 'process.stdout.write(JSON.stringify({ version: process.version, args: process.argv.slice(2) }) + "\\n"); process.exitCode = 7\n'

describe('citrate-ipfs launcher', () => {
  test('before `npm run build`: says to run it, and where', async () => {
    const { root, bin } = await layout()
    const r = await run(process.execPath, [bin, '--help'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /not built yet/)
    assert.ok(r.stderr.includes(`run \`npm run build\` in ${root}`), r.stderr)
  })

  test('on a supported Node: runs the built CLI in the same process, arguments and exit code kept', async () => {
    const { bin } = await layout(PROBE)
    const r = await run(process.execPath, [bin, 'pull', 'x', '--json'])
    assert.equal(r.code, 7)
    assert.deepEqual(JSON.parse(r.stdout), { version: process.version, args: ['pull', 'x', '--json'] })
  })

  test('on an old Node: re-runs on the bundled node_modules/node, or names the Node it needs', { skip: noOldNode }, async () => {
    const { root, bin } = await layout(PROBE)
    const none = await run(old ?? '', [bin, '--version'])
    assert.equal(none.code, 1)
    assert.match(none.stderr, /needs Node\.js 22\.12 or newer .*this is Node v\d+/)
    assert.match(none.stderr, /run `npm ci`/)

    // The project's `node` devDependency, as npm lays it out (here: this Node).
    await mkdir(join(root, 'node_modules', 'node', 'bin'), { recursive: true })
    await symlink(process.execPath, join(root, 'node_modules', 'node', 'bin', 'node'))
    const r = await run(old ?? '', [bin, 'status', '--verbose'])
    assert.equal(r.code, 7, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), { version: process.version, args: ['status', '--verbose'] })
    assert.match(r.stderr, /is too old; running on .*node_modules[/\\]node[/\\]bin[/\\]node/)
  })

  // The README's first commands on a fresh clone of this commit; the npm cache is warm
  // (this checkout's own `npm ci`), so `--offline` keeps the test on this machine. ~75 s on 2 cores.
  test('a fresh clone: `npm ci && npm run build && npx citrate-ipfs --version` with the machine\'s old Node first on PATH', { skip: noOldNode, timeout: 600_000 }, async () => {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'packages/cli/bin', 'packages/cli/package.json', 'package-lock.json'], { cwd: repoRoot, encoding: 'utf8' }).trim()
    if (dirty !== '') process.stderr.write(`bin-shim.spec: the clone tests commit ${head}; these changes are not in it:\n${dirty}\n`)
    const clone = join(await temp('citrate-clone-'), 'citrate-ipfs')
    execFileSync('git', ['clone', '--quiet', repoRoot, clone])
    execFileSync('git', ['checkout', '--quiet', '--detach', head], { cwd: clone })
    // As a person's shell would have it: none of the npm_* variables this test runner may have inherited.
    const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_')))
    env.PATH = freshPath()
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
    const ci = await run(npm, ['ci', '--offline', '--no-audit', '--no-fund'], { cwd: clone, env, timeout: 300_000 })
    assert.equal(ci.code, 0, ci.stderr)
    const build = await run(npm, ['run', 'build'], { cwd: clone, env, timeout: 300_000 })
    assert.equal(build.code, 0, build.stderr + build.stdout)

    const npx = await run(process.platform === 'win32' ? 'npx.cmd' : 'npx', ['citrate-ipfs', '--version'], { cwd: clone, env })
    assert.equal(npx.code, 0, npx.stderr)
    assert.equal(npx.stdout.trim(), '0.1.0')
    // The linked bin run straight from a shell (no npm adding node_modules/.bin to PATH): its
    // shebang finds the old Node, which hands over to the clone's own Node 24.
    const direct = await run(join(clone, 'node_modules', '.bin', 'citrate-ipfs'), ['--verbose', '--version'], { cwd: clone, env })
    assert.equal(direct.code, 0, direct.stderr)
    assert.equal(direct.stdout.trim(), '0.1.0')
    assert.ok(direct.stderr.includes(`running on ${join(clone, 'node_modules', 'node', 'bin', 'node')}`), direct.stderr)
  })
})
