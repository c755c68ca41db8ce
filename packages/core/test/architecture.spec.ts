/**
 * The architecture check (tools/check-architecture.mjs) holds for the tree,
 * and it does fail on each kind of violation it exists to catch.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
// @ts-expect-error: a plain .mjs tool without type declarations
import { checkArchitecture, importsOf } from '../../../tools/check-architecture.mjs'

const check = checkArchitecture as (root: string) => string[]
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')

async function writeTree (root: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true })
    await writeFile(join(root, path), text)
  }
}

test('the repository holds its layers, package boundaries and has no import cycles', () => {
  assert.deepEqual(check(repo), [])
})

test('import specifiers are read from code, not from comments', () => {
  const specs = (importsOf as (t: string) => string[])([
    "import { a } from './a.ts'",
    "import type { B } from '../b/b.ts'",
    "export { c } from './c.ts'",
    "export * from './d.ts'",
    "const e = await import('./e.ts')",
    '/** import { x } from "../not/this.ts" */',
    "// import { y } from '../nor/this.ts'"
  ].join('\n'))
  assert.deepEqual(specs, ['./a.ts', '../b/b.ts', './c.ts', './d.ts', './e.ts'])
})

test('each kind of violation is reported', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'citrate-arch-'))
  t.after(async () => { await rm(root, { recursive: true, force: true }) })
  const files: Record<string, string> = {
    'packages/core/src/errors.ts': 'export const E = 1\n',
    'packages/core/src/index.ts': "export * from './models/m.ts'\nimport '@citrate-ipfs/service'\n",
    'packages/core/src/fetch/pull.ts': "import { R } from '../registry/r.ts'\nimport { D } from '../daemon/manager.ts'\nexport const P = R + D\n",
    'packages/core/src/fetch/x.ts': "import { Y } from './y.ts'\nexport const X = Y\n",
    'packages/core/src/fetch/y.ts': "import type { X } from './x.ts'\nexport const Y = 1\n",
    'packages/core/src/registry/r.ts': "import { M } from '../models/m.ts'\nexport const R = M\n",
    'packages/core/src/daemon/manager.ts': 'export const D = 1\n',
    'packages/core/src/models/m.ts': "import { E } from '../errors.ts'\nexport const M = E\n",
    'packages/core/src/mystery/z.ts': "import { E } from '../errors.ts'\nexport const Z = E\n",
    'packages/contract/src/index.ts': "import { readFile } from 'node:fs/promises'\nexport const C = readFile\n",
    'packages/client/src/index.ts': "import { pull } from '@citrate-ipfs/core'\nexport const K = pull\n"
  }
  await writeTree(root, files)
  const v = check(root)
  const has = (re: RegExp): void => { assert.ok(v.some(x => re.test(x)), `expected a violation matching ${String(re)} in:\n${v.join('\n')}`) }
  has(/fetch\/pull\.ts: fetch \(layer \d\) imports \.\.\/registry\/r\.ts from registry/)
  has(/fetch\/pull\.ts: fetch imports \.\.\/daemon\/manager\.ts: fetch\/ takes its sources injected/)
  has(/registry\/r\.ts: registry \(layer \d\) imports \.\.\/models\/m\.ts/)
  has(/file cycle: packages\/core\/src\/fetch\/x\.ts -> packages\/core\/src\/fetch\/y\.ts/)
  has(/core\/src\/mystery is in no layer/)
  has(/package core imports @citrate-ipfs\/service/)
  has(/package client imports @citrate-ipfs\/core/)
  has(/package contract runs in a browser but imports node:fs\/promises/)
  assert.ok(!v.some(x => x.includes('models/m.ts: models')), 'models importing errors.ts (a lower layer) is allowed')
})

test('a folder cycle is reported', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'citrate-arch-'))
  t.after(async () => { await rm(root, { recursive: true, force: true }) })
  const files: Record<string, string> = {
    'packages/service/src/a/one.ts': "import { T } from '../b/two.ts'\nexport const O = T\n",
    'packages/service/src/b/two.ts': "export const T = 2\n",
    'packages/service/src/b/three.ts': "import { O } from '../a/one.ts'\nexport const H = O\n"
  }
  await writeTree(root, files)
  const v = check(root)
  assert.ok(v.some(x => /folder cycle: service\/a -> service\/b/.test(x)), v.join('\n'))
  assert.ok(!v.some(x => x.startsWith('file cycle')), 'no file takes part in a cycle here')
})

test('the core and the CLI\'s pull path load no schema library (start-up: TypeBox alone is 373 modules)', async () => {
  const { execFileSync } = await import('node:child_process')
  const script = [
    "import { registerHooks } from 'node:module'",
    'const seen = []',
    'registerHooks({ load (url, context, next) { seen.push(url); return next(url, context) } })',
    "await import('@citrate-ipfs/core')",
    "await import('@citrate-ipfs/contract/plain')",
    "process.stdout.write(seen.filter(u => /node_modules\\/(typebox|ajv)\\//.test(u)).length + ' ' + seen.length)"
  ].join('\n')
  const [heavy, all] = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: join(repo, 'packages', 'cli'), encoding: 'utf8' }).trim().split(' ').map(Number)
  assert.ok((all ?? 0) > 50, `the hook saw the modules load (${all})`)
  assert.equal(heavy, 0, 'modules of typebox or ajv loaded by @citrate-ipfs/core')
})
