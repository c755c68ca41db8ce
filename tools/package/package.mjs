#!/usr/bin/env node
// `npm run package`: the CLI and service as one executable, with no Node.js or node_modules at run time.
//
//   1. esbuild bundles packages/cli/src/main.ts and everything it imports into one CommonJS script
//      (a Node 24 single executable application runs one CommonJS script);
//   2. the bundle's inputs are checked for native addons (a SEA cannot load a `.node` file from
//      inside itself): none may be there;
//   3. `node --experimental-sea-config` makes the SEA blob, with V8's code cache and the built UI
//      (packages/ui/dist, source maps left out) as assets named `ui/<path>`;
//   4. postject injects the blob into a copy of this Node 24 binary;
//   5. the result is renamed into dist/sidecar/citrate-ipfs-<rust target triple> (Tauri's externalBin
//      naming) and, unless --no-kubo, the pinned kubo is placed beside it as ipfs-<triple>.
//
// The finished executable is cached by a hash of its inputs in ~/.cache/citrate-ipfs/sidecar/v1/, so
// the tests (packages/cli/test/sidecar.spec.ts) and repeated runs do not rebuild it.
//
// Usage: node tools/package/package.mjs [--out DIR] [--no-kubo] [--json]
// (run `npm run build` first; `npm run package` does both).
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const CACHE_VERSION = 'v1'
const SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'

function cacheDir () {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'citrate-ipfs', 'sidecar', CACHE_VERSION)
}

function walk (dir) {
  const out = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...walk(p))
    else if (e.isFile()) out.push(p)
  }
  return out.sort()
}

/** The UI files to embed: every file of packages/ui/dist except source maps (1.6 MB nobody loads). */
function uiAssets () {
  const dist = join(root, 'packages', 'ui', 'dist')
  if (!existsSync(join(dist, 'index.html'))) throw new Error(`${dist}/index.html is missing: run \`npm run build\` first`)
  const assets = {}
  for (const file of walk(dist)) {
    if (file.endsWith('.map')) continue
    assets['ui/' + relative(dist, file).split(sep).join('/')] = file
  }
  return assets
}

async function bundle (outfile) {
  const esbuild = await import('esbuild')
  const result = await esbuild.build({
    entryPoints: [join(root, 'packages', 'cli', 'src', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    // Smaller is faster to load; names are kept so error classes still print their names.
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    // In CommonJS there is no import.meta: the one use (finding the UI folder on a plain Node) falls back to this file's URL.
    define: { 'import.meta.url': '__citrate_import_meta_url' },
    banner: { js: 'var __citrate_import_meta_url = require("node:url").pathToFileURL(__filename).href;' }
  })
  const inputs = Object.keys(result.metafile.inputs)
  const native = inputs.filter(i => i.endsWith('.node') || /\bnode-gyp-build\b|\bbindings\b\/bindings\.js$/.test(i))
  if (native.length > 0) throw new Error(`the bundle would need native addons, which a single executable cannot load: ${native.join(', ')}`)
  return { inputs: inputs.length, bytes: statSync(outfile).size }
}

function sha256 (buf) {
  return createHash('sha256').update(buf).digest('hex')
}

async function platformModule () {
  const p = join(root, 'packages', 'core', 'dist', 'platform.js')
  if (!existsSync(p)) throw new Error(`${p} is missing: run \`npm run build\` first`)
  return await import(pathToFileURL(p).href)
}

export async function packageSidecar ({ out = join(root, 'dist', 'sidecar'), kubo = true, log = () => {} } = {}) {
  const { sidecarFileName } = await platformModule()
  const work = join(out, '.work')
  rmSync(work, { recursive: true, force: true })
  mkdirSync(work, { recursive: true })
  const script = join(work, 'citrate-ipfs.cjs')
  const started = Date.now()
  const b = await bundle(script)
  const assets = uiAssets()

  // The cache key: the bundle, the embedded files and the Node binary that will carry them.
  const h = createHash('sha256')
  h.update(readFileSync(script))
  for (const [key, file] of Object.entries(assets)) h.update(key).update(readFileSync(file))
  h.update(process.version).update(readFileSync(process.execPath).subarray(0, 1 << 20))
  const key = h.digest('hex').slice(0, 20)
  const name = sidecarFileName('citrate-ipfs')
  const cached = join(cacheDir(), key, name)
  const target = join(out, name)

  let fromCache = existsSync(cached)
  if (!fromCache) {
    log(`building ${name} (bundle ${(b.bytes / 1e6).toFixed(1)} MB from ${b.inputs} modules, ${Object.keys(assets).length} UI files)`)
    const blob = join(work, 'sea-prep.blob')
    writeFileSync(join(work, 'sea-config.json'), JSON.stringify({
      main: script,
      output: blob,
      disableExperimentalSEAWarning: true,
      // V8's code cache: the bundle is compiled at build time, not at every start.
      useCodeCache: true,
      useSnapshot: false,
      assets
    }, null, 2))
    execFileSync(process.execPath, ['--experimental-sea-config', join(work, 'sea-config.json')], { stdio: ['ignore', 'ignore', 'inherit'] })
    const exe = join(work, name)
    copyFileSync(process.execPath, exe)
    chmodSync(exe, 0o755)
    const { inject } = await import('postject')
    await inject(exe, 'NODE_SEA_BLOB', readFileSync(blob), {
      sentinelFuse: SENTINEL_FUSE,
      ...(process.platform === 'darwin' ? { machoSegmentName: 'NODE_SEA' } : {})
    })
    if (process.platform === 'darwin') {
      // postject invalidates the signature: an ad-hoc one lets the binary run (release builds sign properly).
      execFileSync('codesign', ['--sign', '-', exe])
    }
    // Into the cache atomically: a half-written file is never found there.
    mkdirSync(dirname(cached), { recursive: true })
    const tmp = `${cached}.${process.pid}.tmp`
    copyFileSync(exe, tmp)
    chmodSync(tmp, 0o755)
    renameSync(tmp, cached)
  }

  // Into dist/sidecar atomically too: a running app never sees a partial sidecar.
  mkdirSync(out, { recursive: true })
  const tmp = `${target}.${process.pid}.tmp`
  copyFileSync(cached, tmp)
  chmodSync(tmp, 0o755)
  renameSync(tmp, target)

  let kuboTarget
  if (kubo) {
    // The pinned kubo (tools/kubo: its Go module, checked against go.sum), built once and cached.
    const { ensureKubo, pinnedKuboVersion } = await import(pathToFileURL(join(root, 'tools', 'kubo', 'build-kubo.mjs')).href)
    const src = ensureKubo({ log })
    kuboTarget = join(out, sidecarFileName('ipfs'))
    const t = `${kuboTarget}.${process.pid}.tmp`
    copyFileSync(src, t)
    chmodSync(t, 0o755)
    renameSync(t, kuboTarget)
    kubo = { path: kuboTarget, version: pinnedKuboVersion(), bytes: statSync(kuboTarget).size }
  }
  rmSync(work, { recursive: true, force: true })

  const manifest = {
    executable: target,
    bytes: statSync(target).size,
    sha256: sha256(readFileSync(target)),
    node: process.version,
    bundle: { modules: b.inputs, bytes: b.bytes, nativeAddons: [] },
    uiFiles: Object.keys(assets).length,
    kubo: kubo === false ? null : kubo,
    fromCache,
    seconds: (Date.now() - started) / 1000
  }
  writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n')
  return manifest
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  const outAt = args.indexOf('--out')
  const json = args.includes('--json')
  packageSidecar({
    out: outAt >= 0 ? resolve(args[outAt + 1]) : undefined,
    kubo: !args.includes('--no-kubo'),
    log: (m) => process.stderr.write(m + '\n')
  }).then((m) => {
    if (json) process.stdout.write(JSON.stringify(m) + '\n')
    else {
      process.stdout.write(`${m.executable}: ${(m.bytes / 1e6).toFixed(1)} MB (Node ${m.node}, ${m.bundle.modules} modules, no native addons, ${m.uiFiles} UI files${m.fromCache ? ', from cache' : ''})\n`)
      if (m.kubo) process.stdout.write(`${m.kubo.path}: kubo ${m.kubo.version}\n`)
    }
  }, (err) => {
    process.stderr.write(`package: ${err.message}\n`)
    process.exitCode = 1
  })
}
