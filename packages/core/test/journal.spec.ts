/**
 * The pull journal (fetch/journal.ts): leaf lines noted without waiting are
 * all written by flush(), survive a reopen, and a failed write is not lost.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { PullJournal } from '../src/fetch/journal.ts'

async function cidOf (n: number): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(new Uint8Array([n])))
}

test('noted leaves are written by flush and found again after a reopen', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'citrate-journal-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const j = new PullJournal(dir)
  await j.open()
  const cids = await Promise.all([0, 1, 2, 3, 4].map(cidOf))
  cids.forEach((cid, i) => { j.noteLeaf('', i * 10, 10, cid) })
  await j.flush()
  assert.equal((await readFile(join(dir, 'leaves.log'), 'utf8')).trim().split('\n').length, 5)
  await j.close()
  const again = new PullJournal(dir)
  await again.open()
  cids.forEach((cid, i) => { assert.equal(again.leafDone('', i * 10, cid), 10) })
  await again.close()
})

test('a failed journal write is thrown by flush and by the next noteLeaf', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'citrate-journal-'))
  t.after(async () => { await rm(dir, { recursive: true, force: true }) })
  const j = new PullJournal(dir)
  await j.open()
  // The log's descriptor closed under the journal: its next write fails (EBADF), as a dying disk would.
  await (j as unknown as { log: { close: () => Promise<void> } }).log.close()
  j.noteLeaf('', 0, 10, await cidOf(9))
  await assert.rejects(j.flush(), (err: NodeJS.ErrnoException) => err.code === 'EBADF' || /closed/i.test(err.message))
  const next = await cidOf(8)
  assert.throws(() => { j.noteLeaf('', 10, 10, next) })
})
