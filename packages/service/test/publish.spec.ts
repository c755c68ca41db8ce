/**
 * ipfs_add against a real kubo: the CID `ipfs add` gives, pinned under its
 * name, publish-progress events ending in a done event with the CID; a
 * relative or missing path is a 400 naming it.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient, CommandError, type CitrateClient, type ServiceEvent } from '@citrate-ipfs/client'
import { startService, type RunningService } from '../src/index.ts'
import { ipfs, makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'
import { chachaBytes } from '../../core/test/helpers/content.ts'

let h: TestHome
let svc: RunningService
let client: CitrateClient
let scratch: string
const events: ServiceEvent[] = []
const listening = new AbortController()

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'citrate-svc-publish-'))
  h = await makeTestHome()
  await h.manager.start()
  svc = await startService({ home: h.home, port: 0, env: h.env })
  client = createClient({ baseUrl: svc.url, token: svc.token })
  void client.listen(e => events.push(e), { signal: listening.signal })
})
after(async () => {
  listening.abort()
  await svc?.close()
  await h?.cleanup()
  await rm(scratch, { recursive: true, force: true })
})

describe('service: publish (ipfs_add)', () => {
  test('a file: kubo\'s own CID, pinned under its name, progress ending in done with the CID', async () => {
    const file = join(scratch, 'weights.bin')
    await writeFile(file, chachaBytes('svc-publish', 3 * 1024 * 1024 + 5))
    const expected = (await ipfs(join(h.home, 'ipfs'), ['add', '-Q', '--only-hash', file])).toString().trim()
    const r = await client.invoke('ipfs_add', { path: file, name: 'weights' })
    assert.equal(r.cid, expected)
    assert.equal(r.size_bytes, 3 * 1024 * 1024 + 5)
    assert.equal(r.is_directory, false)
    assert.match((await ipfs(join(h.home, 'ipfs'), ['pin', 'ls', '--type=recursive', '--names'])).toString(), new RegExp(`${expected} recursive weights`))
    const deadline = Date.now() + 5000
    while (!events.some(e => e.event === 'publish-progress' && e.data.done) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
    const mine = events.filter(e => e.event === 'publish-progress' && e.data.path === file).map(e => e.data as { done: boolean, cid?: string, bytes: number })
    assert.deepEqual(mine.at(-1), { path: file, bytes: r.size_bytes, total_bytes: r.size_bytes, done: true, cid: expected })
    assert.ok(mine.slice(0, -1).every(e => !e.done))
  })

  test('a relative or missing path is a 400 naming it', async () => {
    await assert.rejects(client.invoke('ipfs_add', { path: 'models/x' }), (err: Error) => err instanceof CommandError && err.status === 400 && /"models\/x" is not an absolute path/.test(err.message))
    const missing = join(scratch, 'nope')
    await assert.rejects(client.invoke('ipfs_add', { path: missing }), (err: Error) => err instanceof CommandError && err.status === 400 && err.message === `path: ${missing}: no such file or folder`)
  })
})
