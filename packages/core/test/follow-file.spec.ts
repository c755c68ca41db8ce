/**
 * followFile: what `tail -F` shows, as an async iterator over a real file:
 * appended text, then a truncated file from its start, then a rotated log
 * (the old file read to its end, the new one from its start), characters
 * never split, and an abort that simply ends it.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFile, mkdtemp, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { followFile } from '../src/index.ts'

const dirs: string[] = []
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }) })

/** Reads chunks until `expected` has come, and checks it is exactly that. */
async function expectText (it: AsyncGenerator<string>, expected: string): Promise<void> {
  let got = ''
  while (got.length < expected.length) {
    const r = await it.next()
    assert.equal(r.done, false, `ended early after ${JSON.stringify(got)}`)
    got += r.value as string
  }
  assert.equal(got, expected)
}

describe('followFile', () => {
  test('appends, truncation, rotation, split UTF-8, then abort ends it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'citrate-follow-'))
    dirs.push(dir)
    const log = join(dir, 'kubo.log')
    await writeFile(log, 'before we started\n')
    const stop = new AbortController()
    const it = followFile(log, { signal: stop.signal, pollMs: 10 })
    const first = it.next() // starts following at the end as it is now
    await appendFile(log, 'a\n')
    const r = await first
    assert.equal(r.value, 'a\n', 'only what came after the start')
    await appendFile(log, 'b1\nb2\n')
    await expectText(it, 'b1\nb2\n')

    await writeFile(log, 't\n') // truncated and rewritten, shorter than where we were
    await expectText(it, 't\n')

    await appendFile(log, 'last of the old file\n')
    await rename(log, `${log}.1`)
    await writeFile(log, 'first of the new file\n')
    await expectText(it, 'last of the old file\nfirst of the new file\n')

    const euro = Buffer.from('€\n')
    await appendFile(log, euro.subarray(0, 1))
    const pending = it.next()
    await appendFile(log, euro.subarray(1))
    let got = (await pending).value as string
    if (got === '') got += (await it.next()).value as string
    assert.equal(got, '€\n', 'a character split across writes comes whole')

    stop.abort()
    assert.deepEqual(await it.next(), { done: true, value: undefined })
  })

  test('a file that does not exist yet is followed from its start once it appears', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'citrate-follow-'))
    dirs.push(dir)
    const log = join(dir, 'later.log')
    const stop = new AbortController()
    const it = followFile(log, { signal: stop.signal, pollMs: 10 })
    const next = it.next()
    await writeFile(log, 'hello\n')
    assert.equal((await next).value, 'hello\n')
    stop.abort()
    assert.equal((await it.next()).done, true)
  })
})
