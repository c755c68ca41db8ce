#!/usr/bin/env node
// Provides the IPFS Cluster binaries (ipfs-cluster-service, ipfs-cluster-ctl)
// the cluster tests run and prints their folder. Order: $CITRATE_TEST_CLUSTER_DIR
// (a folder holding both), then the cache
// (${XDG_CACHE_HOME:-~/.cache}/citrate-ipfs/cluster/<version>-nonat-<patch hash>/),
// else they are built with the machine's Go toolchain from the pinned Go module
// in this folder, PATCHED: the module's source is copied out of the module cache,
// the diffs in patches/ are applied (every hunk must match exactly, or the build
// stops), and the build uses that copy (tools/cluster/.build/, git-ignored) through a `replace`
// in a copy of go.mod (-modfile); the committed go.mod / go.sum are not touched. patches/no-nat.patch
// removes go-libp2p NAT port mapping and the AutoNAT service, which v1.1.0 always
// enables and which would make every peer probe the LAN's gateway (tests touch
// loopback only). Both binaries are built into a temp folder that is renamed
// into place only when complete, so a half-built cache is never used.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { goBuild } from '../go-build.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const MODULE = 'github.com/ipfs-cluster/ipfs-cluster'
const COMMANDS = ['ipfs-cluster-service', 'ipfs-cluster-ctl']
/** Applied in this order to the module's source; each is a unified diff with paths a/… b/… from the module root. */
const PATCHES = ['no-nat.patch']
/** What the build info file beside the binaries records; written last, before the folder is renamed into place. */
const BUILD_INFO = 'build.json'
const exe = (name) => process.platform === 'win32' ? `${name}.exe` : name

export function pinnedClusterVersion () {
  const m = /github\.com\/ipfs-cluster\/ipfs-cluster (v[0-9][^\s]*)/.exec(readFileSync(join(here, 'go.mod'), 'utf8'))
  if (m == null) throw new Error('tools/cluster/go.mod does not require github.com/ipfs-cluster/ipfs-cluster')
  return m[1]
}

function patchTexts () {
  return PATCHES.map(name => ({ name, text: readFileSync(join(here, 'patches', name), 'utf8') }))
}

/** The cache key: the version, what is patched, and a hash of the patches (a changed patch is a new build). */
export function clusterBuildKey (version = pinnedClusterVersion()) {
  const h = createHash('sha256')
  for (const p of patchTexts()) h.update(`${p.name}\0${p.text}\0`)
  return `${version}-nonat-${h.digest('hex').slice(0, 12)}`
}

export function cachedClusterDir (version = pinnedClusterVersion()) {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache')
  return join(cache, 'citrate-ipfs', 'cluster', clusterBuildKey(version))
}

function isComplete (dir) {
  return existsSync(join(dir, BUILD_INFO)) && COMMANDS.every(c => existsSync(join(dir, exe(c))))
}

/** Copies a tree with fresh (writable) modes: the module cache's files and folders are read-only. */
function copyTree (from, to) {
  mkdirSync(to, { recursive: true })
  for (const e of readdirSync(from, { withFileTypes: true })) {
    if (e.isDirectory()) copyTree(join(from, e.name), join(to, e.name))
    else if (e.isFile()) writeFileSync(join(to, e.name), readFileSync(join(from, e.name)))
  }
}

/**
 * Applies a unified diff strictly: each hunk's old lines (context and '-') must
 * occur exactly once in the file, whole lines, and are replaced by its new lines
 * (context and '+'). No fuzz, no offsets guessed: a mismatch throws.
 */
export function applyUnifiedDiff (root, text, name) {
  const lines = text.split('\n')
  let i = 0
  let files = 0
  while (i < lines.length) {
    if (!(lines[i].startsWith('--- ') && lines[i + 1]?.startsWith('+++ '))) { i++; continue }
    const rel = lines[i + 1].slice(4).split('\t')[0].replace(/^b\//, '')
    const file = join(root, ...rel.split('/'))
    if (!existsSync(file)) throw new Error(`${name}: ${rel} is not in ${MODULE}`)
    let content = readFileSync(file, 'utf8')
    i += 2
    let hunk = 0
    while (i < lines.length && lines[i].startsWith('@@ ')) {
      const head = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/.exec(lines[i])
      if (head == null) throw new Error(`${name}: bad hunk header: ${lines[i]}`)
      const [oldCount, newCount] = [Number(head[1] ?? 1), Number(head[2] ?? 1)]
      hunk++
      i++
      const before = []
      const after = []
      while (before.length < oldCount || after.length < newCount) {
        const l = lines[i++]
        if (l == null) throw new Error(`${name}: hunk ${hunk} of ${rel} ends early`)
        if (l.startsWith('\\')) continue
        const body = l.slice(1)
        if (l[0] === ' ' || l === '') { before.push(body); after.push(body) } else if (l[0] === '-') before.push(body)
        else if (l[0] === '+') after.push(body)
        else throw new Error(`${name}: hunk ${hunk} of ${rel}: unexpected line ${JSON.stringify(l)}`)
      }
      if (before.length !== oldCount || after.length !== newCount) throw new Error(`${name}: hunk ${hunk} of ${rel}: line counts do not match its header`)
      const old = `\n${before.join('\n')}\n`
      const wrapped = `\n${content}`
      const at = wrapped.indexOf(old)
      if (at < 0) throw new Error(`${name}: hunk ${hunk} of ${rel} does not match the module's source (not found)`)
      if (wrapped.indexOf(old, at + 1) >= 0) throw new Error(`${name}: hunk ${hunk} of ${rel} matches more than one place`)
      content = (wrapped.slice(0, at) + `\n${after.join('\n')}\n` + wrapped.slice(at + old.length)).slice(1)
    }
    if (hunk === 0) throw new Error(`${name}: ${rel} has no hunks`)
    writeFileSync(file, content)
    files++
  }
  if (files === 0) throw new Error(`${name}: no file diffs in it`)
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
const alive = (pid) => { try { process.kill(pid, 0); return true } catch (err) { return err.code === 'EPERM' } }

/**
 * Takes tools/cluster/.build (the one place the patched source lives while it is built, so the path the
 * binaries record for the replaced module is the same, relative one on every build). Waits while another
 * live process holds it; a folder left by a dead one is removed.
 */
function lockBuildFolder (work, log) {
  for (let waited = 0; ; waited += 2000) {
    try {
      mkdirSync(work)
      writeFileSync(join(work, 'pid'), String(process.pid))
      return
    } catch (err) {
      if (err.code !== 'EEXIST') throw err
    }
    let pid = 0
    try {
      pid = Number(readFileSync(join(work, 'pid'), 'utf8'))
    } catch {
      // No pid file yet, or the folder just went away.
    }
    if (!(pid > 0 && alive(pid))) {
      // Its owner died (or had not yet written its pid: give it a moment before taking over).
      if (pid > 0 || waited >= 10_000) { rmSync(work, { recursive: true, force: true }); continue }
    } else if (waited === 0) log(`another cluster build (pid ${pid}) is running in ${work}; waiting for it`)
    if (waited > 30 * 60_000) throw new Error(`${work} has been held by pid ${pid} for 30 minutes`)
    sleep(2000)
  }
}

function buildPatched (version, dir, log) {
  const parent = dirname(dir)
  mkdirSync(parent, { recursive: true })
  const work = join(here, '.build')
  lockBuildFolder(work, log)
  // The binaries go to a fresh folder beside the cache entry (same file system, so the final rename is atomic),
  // named with our pid; ones left by builds that died (their pid gone) are removed.
  const prefix = `.build-${basename(dir)}-`
  for (const name of readdirSync(parent)) {
    const owner = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1] ?? 0)
    if (name.startsWith(prefix) && owner > 0 && !alive(owner)) rmSync(join(parent, name), { recursive: true, force: true })
  }
  const out = mkdtempSync(join(parent, `${prefix}${process.pid}-`))
  try {
    // A build that finished while we waited for the lock.
    if (isComplete(dir)) return
    const dl = JSON.parse(execFileSync('go', ['mod', 'download', '-json', `${MODULE}@${version}`], { cwd: here, stdio: ['ignore', 'pipe', 'inherit'] }).toString())
    if (typeof dl.Dir !== 'string' || !existsSync(dl.Dir)) throw new Error(`go mod download ${MODULE}@${version}: no source folder (${dl.Error ?? 'unknown error'})`)
    const src = join(work, 'ipfs-cluster')
    copyTree(dl.Dir, src)
    const patches = patchTexts()
    for (const p of patches) { log(`applying tools/cluster/patches/${p.name}`); applyUnifiedDiff(src, p.text, p.name) }
    // The patch's point, checked on the result rather than trusted.
    const host = readFileSync(join(src, 'clusterhost.go'), 'utf8')
    for (const opt of ['libp2p.NATPortMap()', 'libp2p.EnableNATService()']) {
      if (host.includes(opt)) throw new Error(`patched ${MODULE} still has ${opt} in clusterhost.go`)
    }
    // A copy of go.mod / go.sum with one `replace` to the patched copy, used through -modfile (relative to this
    // folder, the module root): the committed files are not touched, and the module graph is the committed one.
    writeFileSync(join(work, 'go.mod'), `${readFileSync(join(here, 'go.mod'), 'utf8')}\nreplace ${MODULE} ${version} => ./.build/ipfs-cluster\n`)
    writeFileSync(join(work, 'go.sum'), readFileSync(join(here, 'go.sum')))
    const goflags = `${(process.env.GOFLAGS ?? '').replace(/(^|\s)-mod(file)?=\S+/g, '')} -mod=readonly -modfile=.build/go.mod`.trim()
    for (const c of COMMANDS) {
      log(`building ${c} ${version} (patched) from its Go module`)
      goBuild({ cwd: here, pkg: `${MODULE}/cmd/${c}`, target: join(out, exe(c)), env: { GOFLAGS: goflags } })
    }
    const sha256 = (f) => createHash('sha256').update(readFileSync(f)).digest('hex')
    writeFileSync(join(out, BUILD_INFO), JSON.stringify({
      module: `${MODULE}@${version}`,
      patches: patches.map(p => ({ name: p.name, sha256: createHash('sha256').update(p.text).digest('hex') })),
      binaries: Object.fromEntries(COMMANDS.map(c => [exe(c), sha256(join(out, exe(c)))])),
      go: execFileSync('go', ['env', 'GOVERSION']).toString().trim()
    }, null, 2) + '\n')
    try {
      renameSync(out, dir)
    } catch (err) {
      // Another run (another checkout) finished the same build first: use its (complete) folder.
      if (!isComplete(dir)) throw err
    }
  } finally {
    rmSync(out, { recursive: true, force: true })
    rmSync(work, { recursive: true, force: true })
  }
}

/** The folder holding both binaries, building them (patched) when the cache has no complete build. */
export function ensureCluster ({ log = () => {} } = {}) {
  const fromEnv = process.env.CITRATE_TEST_CLUSTER_DIR
  if (fromEnv) {
    for (const c of COMMANDS) if (!existsSync(join(fromEnv, exe(c)))) throw new Error(`CITRATE_TEST_CLUSTER_DIR=${fromEnv} has no ${exe(c)}`)
    return fromEnv
  }
  const version = pinnedClusterVersion()
  const dir = cachedClusterDir(version)
  if (isComplete(dir)) return dir
  if (existsSync(dir)) throw new Error(`${dir} exists but is not a complete build (no ${BUILD_INFO} or a binary missing): remove it to rebuild`)
  log(`building IPFS Cluster ${version}, patched (tools/cluster/patches), first run only; cached at ${dir}`)
  buildPatched(version, dir, log)
  return dir
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = ensureCluster({ log: (m) => process.stderr.write(m + '\n') })
  const version = execFileSync(join(dir, exe('ipfs-cluster-service')), ['--version']).toString().trim()
  process.stdout.write(`${version}: ${dir}\n`)
}
