/**
 * The lock's stale takeover (util/lock.ts): one winner, and a fresh lock is
 * never taken.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, stat, utimes, readdir, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
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
  assert.equal(await stat(lockPath).then(() => true, () => false), false, 'released: the lock folder is gone')
  assert.equal(await stat(`${lockPath}.owner`).then(() => true, () => false), false, 'and its owner file')
})

test('lockSafely: a lock held longer than its refresh interval stays ours (the owner file does not touch the folder proper-lockfile watches)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'citrate-lock-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const file = join(dir, 'held')
  let compromised: Error | undefined
  const release = await lockSafely(file, { lockPath: `${file}.lock`, staleMs: 2000, onCompromised: (err) => { compromised = err } })
  // Refreshed every staleMs / 2 = 1 s: three refreshes.
  await new Promise(resolve => setTimeout(resolve, 3300))
  await release()
  assert.equal(compromised, undefined, `not compromised (${compromised?.message ?? ''})`)
})

test('a fresh lock folder that reuses a dead holder\'s inode is not judged by that holder\'s owner file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'citrate-lock-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const lock = join(dir, 'x.lock')
  // A holder that died (its pid is gone) and left its owner file beside its lock folder.
  const dead = spawn(process.execPath, ['-e', ''])
  await new Promise(resolve => dead.once('exit', resolve))
  await mkdir(lock)
  const first = await stat(lock)
  await writeFile(`${lock}.owner`, JSON.stringify({ pid: dead.pid, host: hostname(), ino: first.ino, dev: first.dev, birthtimeMs: first.birthtimeMs }))
  // Someone takes the lock over: the old folder removed, a new one made — on ext4 with the same inode —
  // and, for a moment, its owner file not yet written.
  await rm(lock, { recursive: true })
  await mkdir(lock)
  const second = await stat(lock)
  assert.equal(await reclaimIfStale(lock, 60_000), second.ino === first.ino && second.birthtimeMs === first.birthtimeMs,
    'kept, unless the filesystem cannot tell the two folders apart at all')
  if (second.birthtimeMs !== first.birthtimeMs) assert.equal(await stat(lock).then(s => s.ino === second.ino, () => false), true, 'the live lock is still in place')
  // The dead holder's own folder, still in place, is taken over at once.
  await rm(lock, { recursive: true })
  await mkdir(lock)
  const third = await stat(lock)
  await writeFile(`${lock}.owner`, JSON.stringify({ pid: dead.pid, host: hostname(), ino: third.ino, dev: third.dev, birthtimeMs: third.birthtimeMs }))
  assert.equal(await reclaimIfStale(lock, 60_000), true)
})
