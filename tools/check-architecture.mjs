#!/usr/bin/env node
// The architecture, checked: core's folders form layers that only import
// downward, retrieval (fetch/) knows nothing of models, the registry, pins,
// publishing or the daemon, no folder or file takes part in an import cycle,
// and each package imports only the packages below it (the contract and the
// client stay browser-safe). Run it: `node tools/check-architecture.mjs`
// (exit 1 and one line per violation); the test suite runs it too.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * core/src, bottom to top. A module may import its own unit and any unit of a
 * lower rank; a unit of the same or a higher rank is a violation.
 */
export const CORE_LAYERS = [
  ['errors.ts', 'log.ts'],
  ['platform.ts', 'util'],
  ['config'],
  ['ipld', 'net', 'formats'],
  ['daemon'],
  ['install', 'fetch', 'publish', 'verify', 'registry', 'pins'],
  ['models', 'objects'],
  ['index.ts']
]

/** Lower-rank imports that are still forbidden: retrieval has its sources injected, it never reaches for the daemon. */
export const CORE_FORBIDDEN = [
  { from: 'fetch', to: 'daemon', why: 'fetch/ takes its sources injected; the models layer finds the daemon' }
]

/** Which workspace packages each package may import. */
export const PACKAGE_DEPS = {
  contract: [],
  core: ['contract'],
  client: ['contract'],
  service: ['contract', 'core', 'client'],
  ui: ['contract', 'client'],
  cli: ['contract', 'core', 'service', 'ui']
}

/** Packages that run in a browser: no Node built-ins. */
export const BROWSER_SAFE = ['contract', 'client', 'ui']

const IMPORT_RE = /(?:^|[\s;])(?:import|export)\s(?:[^'"`;]*?\sfrom\s)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g

function listSources (dir) {
  const out = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...listSources(p))
    else if (/\.(ts|tsx|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(p)
  }
  return out
}

/** Import specifiers of a source file (comments stripped so an example in a doc comment does not count). */
export function importsOf (text) {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
  const specs = []
  for (const m of code.matchAll(IMPORT_RE)) specs.push(m[1] ?? m[2])
  return specs
}

/** Strongly connected components of size > 1 (or self-loops): the cycles of a graph given as Map<node, Set<node>>. */
export function cyclesOf (graph) {
  let index = 0
  const stack = []
  const on = new Set()
  const idx = new Map()
  const low = new Map()
  const out = []
  const visit = (v) => {
    idx.set(v, index); low.set(v, index); index++
    stack.push(v); on.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v), low.get(w))) } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)))
    }
    if (low.get(v) === idx.get(v)) {
      const scc = []
      let w
      do { w = stack.pop(); on.delete(w); scc.push(w) } while (w !== v)
      if (scc.length > 1 || (graph.get(v)?.has(v) ?? false)) out.push(scc.sort())
    }
  }
  for (const v of graph.keys()) if (!idx.has(v)) visit(v)
  return out
}

/** The unit of a file under a package's src: its top folder, or the file itself when it sits at the top. */
function unitOf (relPath) {
  return relPath.split(sep)[0]
}

/** Checks the monorepo at `root`; returns the violations, one string each (none: the architecture holds). */
export function checkArchitecture (root) {
  const violations = []
  const packagesDir = join(root, 'packages')
  const packages = readdirSync(packagesDir).filter(n => statSync(join(packagesDir, n)).isDirectory())
  const fileGraph = new Map()
  const folderGraph = new Map()
  const rankOf = new Map(CORE_LAYERS.flatMap((units, rank) => units.map(u => [u, rank])))
  const coreSrc = join(packagesDir, 'core', 'src')

  for (const pkg of packages) {
    const src = join(packagesDir, pkg, 'src')
    let files
    try { files = listSources(src) } catch { continue }
    for (const file of files) {
      const from = relative(root, file)
      const edges = new Set()
      fileGraph.set(from, edges)
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        if (spec.startsWith('.')) {
          const target = resolve(dirname(file), spec)
          const to = relative(root, target)
          if (!to.startsWith(join('packages', pkg, 'src'))) violations.push(`${from}: imports ${spec} outside its package's src`)
          edges.add(to)
          // Folders are compared at the top of each package's src (errors.ts, index.ts count as units of their own).
          const fromFolder = join(pkg, unitOf(relative(src, file)))
          const toFolder = join(pkg, unitOf(relative(src, target)))
          if (fromFolder !== toFolder) {
            if (!folderGraph.has(fromFolder)) folderGraph.set(fromFolder, new Set())
            folderGraph.get(fromFolder).add(toFolder)
          }
          if (pkg === 'core') checkCoreEdge(relative(coreSrc, file), relative(coreSrc, target), from, spec, rankOf, violations)
          continue
        }
        const ws = /^@citrate-ipfs\/([^/]+)/.exec(spec)?.[1] ?? (spec === 'citrate-ipfs' || spec.startsWith('citrate-ipfs/') ? 'cli' : undefined)
        if (ws != null && ws !== pkg && !(PACKAGE_DEPS[pkg] ?? []).includes(ws)) {
          violations.push(`${from}: package ${pkg} imports @citrate-ipfs/${ws} (allowed: ${(PACKAGE_DEPS[pkg] ?? []).join(', ') || 'none'})`)
        }
        if (BROWSER_SAFE.includes(pkg) && (spec.startsWith('node:') || ['fs', 'path', 'os', 'crypto', 'child_process', 'net', 'http'].includes(spec))) {
          violations.push(`${from}: package ${pkg} runs in a browser but imports ${spec}`)
        }
      }
    }
  }
  for (const scc of cyclesOf(fileGraph)) violations.push(`file cycle: ${scc.join(' -> ')}`)
  for (const scc of cyclesOf(folderGraph)) violations.push(`folder cycle: ${scc.join(' -> ')}`)
  return violations
}

function checkCoreEdge (fromRel, toRel, from, spec, rankOf, violations) {
  const a = unitOf(fromRel)
  const b = unitOf(toRel)
  if (a === b) return
  const ra = rankOf.get(a)
  const rb = rankOf.get(b)
  if (ra == null) { violations.push(`${from}: core/src/${a} is in no layer of CORE_LAYERS (tools/check-architecture.mjs)`); return }
  if (rb == null) { violations.push(`${from}: imports ${spec}, and core/src/${b} is in no layer of CORE_LAYERS`); return }
  if (rb >= ra) violations.push(`${from}: ${a} (layer ${ra}) imports ${spec} from ${b} (layer ${rb}): a folder imports only lower layers`)
  const rule = CORE_FORBIDDEN.find(r => r.from === a && r.to === b)
  if (rule != null) violations.push(`${from}: ${a} imports ${spec}: ${rule.why}`)
}

if (process.argv[1] != null && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
  const violations = checkArchitecture(root)
  for (const v of violations) process.stderr.write(`architecture: ${v}\n`)
  if (violations.length > 0) process.exitCode = 1
  else process.stdout.write('architecture: layers, package boundaries and cycles hold\n')
}
