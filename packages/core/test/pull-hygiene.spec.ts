/**
 * What a pull leaves and says when it cannot go on (issue 11, item 7):
 * a pull refused for good leaves no work folder; one that cannot fit fails
 * before fetching, naming the place, the space needed and the space free;
 * one waiting for another process says so, and takes over at once when that
 * process is gone.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import { freeBytes } from '../src/models/space.ts'
import { pull, type PullEvent } from '../src/index.ts'
import { ipfs, makeTestHome, type TestHome } from './helpers/kubo.ts'

function bytesOf (size: number, seed: string): Buffer {
  const out = Buffer.alloc(size)
  for (let i = 0, n = 0; i < size; n++) i += createHash('sha256').update(`${seed}:${n}`).digest().copy(out, i)
  return out
}

async function exists (path: string): Promise<boolean> {
  return await stat(path).then(() => true, () => false)
}

/** Work folders (and their locks) under tmp/pulls/v1. */
async function workFolders (h: TestHome): Promise<string[]> {
  return await readdir(h.config.paths.pulls).catch(() => [])
}

let h: TestHome
let gateway: string
before(async () => {
  h = await makeTestHome('auto_pin = false\nmax_model_size_gb = 100000')
  gateway = (await h.manager.start()).status.gatewayUrl
})
after(async () => { await h?.cleanup() })

async function add (data: Uint8Array): Promise<string> {
  return (await ipfs(h.config.paths.ipfsRepo, ['add', '-Q', '--pin=false', '--chunker=size-262144'], data)).toString().trim()
}

describe('a pull that cannot go on', () => {
  test('refused for good (only bad sources, an unsupported DAG): no work folder is left', async () => {
    const cid = await add(bytesOf(600_000, 'bad-sources'))
    await assert.rejects(pull({ cid, config: h.config, name: 'bad-sources', sources: ['http://127.0.0.1:9'] }), { code: 'ALL_SOURCES_FAILED' })
    assert.deepEqual(await workFolders(h), [], 'nothing under tmp/pulls')
    // A folder whose entry is a dag-cbor node: the walk refuses it once the folder is fetched.
    const cbor = CID.parse((await ipfs(h.config.paths.ipfsRepo, ['dag', 'put'], Buffer.from('{"a":1}'))).toString().trim())
    const dir = dagPb.encode(dagPb.prepare({ Data: new UnixFS({ type: 'directory' }).marshal(), Links: [{ Name: 'x', Hash: cbor, Tsize: 9 }] }))
    const root = (await ipfs(h.config.paths.ipfsRepo, ['block', 'put', '--cid-codec=dag-pb'], dir)).toString().trim()
    await assert.rejects(pull({ cid: root, config: h.config, name: 'unsupported', sources: [gateway] }), { code: 'UNSUPPORTED' })
    assert.deepEqual(await workFolders(h), [], 'nothing under tmp/pulls')
  })

  test('more than the disk holds: DISK_FULL before any byte, naming the place, the space needed and free', async () => {
    // A file node declaring 64 TiB over a 5-byte leaf: the size shows in the root, long before any leaf.
    const leaf = (await ipfs(h.config.paths.ipfsRepo, ['block', 'put', '--cid-codec=raw'], Buffer.from('hello'))).toString().trim()
    const huge = 2n ** 46n
    const node = dagPb.encode(dagPb.prepare({ Data: new UnixFS({ type: 'file', blockSizes: [huge] }).marshal(), Links: [{ Name: '', Hash: CID.parse(leaf), Tsize: 5 }] }))
    const root = (await ipfs(h.config.paths.ipfsRepo, ['block', 'put', '--cid-codec=dag-pb'], node)).toString().trim()
    let downloaded = 0
    await assert.rejects(
      pull({ cid: root, config: h.config, name: 'huge', sources: [gateway], onProgress: (e: PullEvent) => { if (e.type === 'citrate:pull:progress') downloaded = Math.max(downloaded, e.progress.downloaded_bytes) } }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'DISK_FULL')
        assert.match(err.message, new RegExp(`not enough space on ${h.config.paths.pulls.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*: 70\\.4 TB needed, [\\d.]+ [KMGT]?B free`))
        return true
      })
    assert.equal(downloaded, 0, 'no file byte fetched')
    assert.deepEqual(await workFolders(h), [], 'nothing under tmp/pulls')
    assert.ok((freeBytes(h.home)?.bytes ?? 0) > 0, 'statfs answers here')
  })

  test('another process holds the CID: the pull says it waits, and goes on at once when that process dies', async () => {
    const data = bytesOf(2_000_000, 'waiting')
    const cid = await add(data)
    const workDir = join(h.config.paths.pulls, cid)
    await mkdir(workDir, { recursive: true })
    // Another citrate-ipfs process holding this CID's lock (as Retrieval.open takes it), then killed.
    const lockTs = fileURLToPath(new URL('../src/util/lock.ts', import.meta.url))
    const code = `const { lockSafely } = await import(${JSON.stringify(lockTs)}); await lockSafely(${JSON.stringify(workDir)}, { lockPath: ${JSON.stringify(`${workDir}.lock`)}, staleMs: 5000, onCompromised: () => {} }); console.log('locked'); setInterval(() => {}, 1000)`
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('locked')) resolve() })
      child.once('exit', () => { reject(new Error('the lock holder exited early')) })
    })
    let waitingAt = 0
    let reason = ''
    const pulled = pull({ cid, config: h.config, name: 'waiting', sources: [gateway], onProgress: (e: PullEvent) => { if (e.type === 'citrate:pull:waiting') { waitingAt = Date.now(); reason = e.reason } } })
    const deadline = Date.now() + 10_000
    while (waitingAt === 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
    assert.match(reason, /waiting for another citrate-ipfs process that is downloading this CID/)
    child.kill('SIGKILL')
    const killedAt = Date.now()
    await new Promise(resolve => child.once('exit', resolve))
    const res = await pulled
    const tookMs = Date.now() - killedAt
    assert.ok((await readFile(res.path)).equals(data), 'exact bytes')
    // The dead holder's lock is 5 s from stale by its mtime; its gone pid lets the waiter in at the next try (250 ms).
    assert.ok(tookMs < 3000, `finished ${tookMs} ms after the holder died`)
    assert.equal(await exists(workDir), false, 'work folder removed after the commit')
  })
})
