/**
 * `node tools/run-tests.mjs <filter>` refuses a filter that names no test file
 * (before, node --test fell back to its default pattern and ran a larger set,
 * test/fixtures/registry-writer.ts included, instead of saying so).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../../', import.meta.url))

test('a filter matching no test file exits 2 naming it, and runs nothing', () => {
  const r = spawnSync(process.execPath, ['tools/run-tests.mjs', 'packages/cli/test/run-tests-filter.spec.ts', 'no-such-test-xyz'], { cwd: root, encoding: 'utf8', timeout: 60_000 })
  assert.equal(r.status, 2, r.stderr)
  assert.match(r.stderr, /no test file matches "no-such-test-xyz"/)
  assert.doesNotMatch(r.stderr, /run-tests-filter\.spec\.ts/, 'only the unmatched filter is named')
  assert.doesNotMatch(r.stdout, /passed|failed|# tests/, 'no test ran')
})
