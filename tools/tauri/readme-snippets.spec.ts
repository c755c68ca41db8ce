/**
 * The README's "Bundle into the Citrate app" shows the Tauri example's files:
 * its JSON blocks are the whole config and capability files, and every Rust
 * and TypeScript block is a verbatim excerpt of lib.rs or main.ts. So the
 * README cannot drift from the app that `npm run test:tauri` builds.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..', '..')
const read = (p: string): string => readFileSync(join(root, p), 'utf8')
const readme = read('README.md')
const section = readme.slice(readme.indexOf('## Bundle into the Citrate app'), readme.indexOf('\n## ', readme.indexOf('## Bundle into the Citrate app') + 3))

function blocks (lang: string): string[] {
  return [...section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)\\n```', 'g'))].map(m => m[1] as string)
}

test('README: tauri.conf.json and the capability are the example\'s files', () => {
  const json = blocks('json')
  assert.equal(json.length, 2)
  assert.equal(json[0], read('examples/tauri-app/src-tauri/tauri.conf.json').trimEnd())
  assert.equal(json[1], read('examples/tauri-app/src-tauri/capabilities/default.json').trimEnd())
})

test('README: every Rust and TypeScript snippet is an excerpt of the example', () => {
  const rust = blocks('rust')
  const ts = blocks('ts')
  assert.ok(rust.length >= 4 && ts.length >= 2, `snippets found: ${rust.length} Rust, ${ts.length} TypeScript`)
  const lib = read('examples/tauri-app/src-tauri/src/lib.rs')
  const main = read('examples/tauri-app/ui/main.ts')
  for (const b of rust) assert.ok(lib.includes(b), `not in lib.rs:\n${b}`)
  for (const b of ts) assert.ok(main.includes(b), `not in ui/main.ts:\n${b}`)
})
