/**
 * The lock's stale takeover (util/lock.ts): one winner, and a fresh lock is
 * never taken.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, stat, utimes, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
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

test('lockSafely: a holder whose pid is gone is taken over at once; a live holder is not, and the waiter is told it waits', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'citrate-lock-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const file = join(dir, 'pull')
  const lockPath = `${file}.lock`
  // A child takes the lock, says so, and is SIGKILLed: its lock folder stays, fresh, with its pid in it.
  const lockTs = new URL('../src/util/lock.ts', import.meta.url).pathname
  const code = `const { lockSafely } = await import(${JSON.stringify(lockTs)}); await lockSafely(${JSON.stringify(file)}, { lockPath: ${JSON.stringify(lockPath)}, staleMs: 60000, onCompromised: () => {} }); console.log('locked'); setInterval(() => {}, 1000)`
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('locked')) resolve() })
    child.once('exit', () => { reject(new Error('child exited before locking')) })
  })
  // Alive: a waiter with a long staleMs waits (and is told so once).
  let waits = 0
  await assert.rejects(lockSafely(file, { lockPath, staleMs: 60000, waitMs: 400, retryMs: 50, onWait: () => { waits++ }, onCompromised: () => {} }), (err: NodeJS.ErrnoException) => err.code === 'ELOCKED')
  assert.equal(waits, 1, 'onWait called once')
  child.kill('SIGKILL')
  await new Promise(resolve => child.once('exit', resolve))
  // Dead: taken over long before its 60 s stale time.
  const started = Date.now()
  const release = await lockSafely(file, { lockPath, staleMs: 60000, waitMs: 5000, retryMs: 50, onCompromised: () => {} })
  const tookMs = Date.now() - started
  assert.ok(tookMs < 2000, `dead holder's lock taken over in ${tookMs} ms`)
  await release()
  assert.equal(await stat(lockPath).then(() => true, () => false), false, 'released: the lock folder (owner file included) is gone')
})
