/**
 * The lock's stale takeover (util/lock.ts): one winner, and a fresh lock is
 * never taken.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, stat, utimes, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { lockSafely, reclaimIfStale } from '../src/util/lock.ts'

test('a stale lock folder is taken by exactly one of many waiters; a fresh one by none', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'citrate-lock-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const lock = join(dir, 'x.lock')
  await mkdir(lock)
  assert.deepEqual(await Promise.all([reclaimIfStale(lock, 2000), reclaimIfStale(lock, 2000)]), [false, false], 'fresh: kept')
  const old = new Date(Date.now() - 10_000)
  await utimes(lock, old, old)
  const won = await Promise.all(Array.from({ length: 8 }, async () => await reclaimIfStale(lock, 2000)))
  assert.equal(won.filter(Boolean).length, 1, 'one winner')
  assert.equal(await stat(lock).then(() => true, () => false), false, 'the stale folder is gone')
  assert.deepEqual((await readdir(dir)).filter(n => n.includes('.reclaim-')), [], 'no claimed folder left behind')
})

test('lockSafely: a dead holder\'s lock is taken over after staleMs; a live one is waited for', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'citrate-lock-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const file = join(dir, 'registry.json')
  const lockPath = `${file}.lock`
  await mkdir(lockPath)
  const old = new Date(Date.now() - 10_000)
  await utimes(lockPath, old, old)
  const release = await lockSafely(file, { lockPath, staleMs: 2000, waitMs: 3000, onCompromised: () => {} })
  // Held and refreshed now: a second waiter gives up after its wait.
  await assert.rejects(lockSafely(file, { lockPath, staleMs: 2000, waitMs: 300, onCompromised: () => {} }), (err: NodeJS.ErrnoException) => err.code === 'ELOCKED')
  await release()
  const again = await lockSafely(file, { lockPath, staleMs: 2000, waitMs: 300, onCompromised: () => {} })
  await again()
})
