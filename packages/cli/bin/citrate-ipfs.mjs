#!/usr/bin/env node
/**
 * The `citrate-ipfs` command as npm links it (`npx citrate-ipfs`, node_modules/.bin).
 *
 * Why a committed launcher instead of pointing `bin` at dist/main.js: `npm ci`
 * links bins before anything is built, and npm skips a bin whose target does
 * not exist, so on a fresh clone there was no `citrate-ipfs` at all. This file
 * is always there; it runs the built CLI, or says how to build it.
 *
 * And the Node it runs on: `#!/usr/bin/env node` finds whatever node is first on
 * PATH, which on the machines here is Node 20 (end of life; the CLI needs
 * 22.12+). Below 22.12 this re-runs the CLI on the Node 24 that the project's
 * `node` devDependency installs (node_modules/node/bin/node), or, when there is
 * none, says which Node is needed. On a supported Node it loads the CLI in this
 * same process (no second start-up).
 *
 * Plain JavaScript that any Node since 14 can parse: it must be able to speak
 * on the old Node it is meant to step away from.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const NEEDED = [22, 12]
/** Set in the re-run's environment, so a bundled Node that is itself too old cannot make a loop. */
const REEXEC_MARK = 'CITRATE_IPFS_REEXEC'

const here = dirname(fileURLToPath(import.meta.url))
const cliRoot = resolve(here, '..')
const main = join(cliRoot, 'dist', 'main.js')
const args = process.argv.slice(2)
// The same switches as the CLI's --verbose / DEBUG=citrate:*, so "which Node ran me" can be asked.
const verbose = args.includes('--verbose') || /(^|,)\s*citrate:(\*|cli)/.test(process.env.DEBUG ?? '')

function say (line) { process.stderr.write(`citrate-ipfs: ${line}\n`) }

/** The repository (or install) root: the nearest folder above the CLI package holding node_modules/node. */
function bundledNode () {
  const exe = process.platform === 'win32' ? 'node.exe' : 'node'
  for (let dir = cliRoot; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', 'node', 'bin', exe)
    if (existsSync(candidate)) return candidate
    if (dirname(dir) === dir) return undefined
  }
}

function supported (version) {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number)
  return major > NEEDED[0] || (major === NEEDED[0] && minor >= NEEDED[1])
}

if (!existsSync(main)) {
  say(`the command line is not built yet (no ${main}).`)
  say(`run \`npm run build\` in ${resolve(cliRoot, '..', '..')} first, then run this command again.`)
  process.exit(1)
}

if (supported(process.version)) {
  await import(pathToFileURL(main).href)
} else {
  const node = process.env[REEXEC_MARK] == null ? bundledNode() : undefined
  if (node == null) {
    say(`needs Node.js ${NEEDED.join('.')} or newer (Node 24 LTS recommended); this is Node ${process.version} (${process.execPath}).`)
    say('run `npm ci` in the repository to bring Node 24 (the `node` devDependency), or install Node 24 LTS.')
    process.exit(1)
  }
  if (verbose) say(`Node ${process.version} is too old; running on ${node}`)
  const child = spawn(node, [main, ...args], { stdio: 'inherit', env: { ...process.env, [REEXEC_MARK]: '1' } })
  // Ctrl-C reaches the child from the terminal itself (the same process group), so
  // this launcher only waits for it and the CLI can say where a pull paused; passing
  // SIGINT on as well would be a second Ctrl-C, which ends a pull at once. A SIGTERM
  // sent to this process alone (kill, a supervisor) is passed on.
  process.on('SIGINT', () => {})
  process.on('SIGTERM', () => { child.kill('SIGTERM') })
  child.on('error', (err) => { say(`could not run ${node}: ${err.message}`); process.exit(1) })
  child.on('exit', (code, signal) => {
    if (signal != null) {
      // Die of the same signal, so whoever started this sees what happened.
      process.removeAllListeners(signal)
      process.kill(process.pid, signal)
      return
    }
    process.exit(code ?? 1)
  })
}
