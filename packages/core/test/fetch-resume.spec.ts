/**
 * Resume after SIGKILL: a pull in a child process is killed mid-way, started
 * again, and completes with exact bytes. A counting proxy in front of kubo's
 * gateway records every block it served, so the test measures what the
 * restart fetched again: no more than what was in flight at the kill.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { open, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { GatewaySource, pull } from '../src/index.ts'
import { ipfs, makeTestHome, type TestHome } from './helpers/kubo.ts'

function bytesOf (size: number, seed: string): Buffer {
  const out = Buffer.alloc(size)
  for (let i = 0, n = 0; i < size; n++) i += createHash('sha256').update(`${seed}:${n}`).digest().copy(out, i)
  return out
}

/** Forwards to kubo, slowly, and logs each raw block served (CID, bytes); CAR and byte-range responses are counted in bytes. */
class CountingProxy {
  served: Array<{ cid: string, bytes: number }> = []
  carBytes = 0
  rangeBytes = 0
  delayMs = 10
  server: Server
  url = ''
  constructor (upstream: string) {
    this.server = createServer((req, res) => {
      (async () => {
        await new Promise(resolve => setTimeout(resolve, this.delayMs))
        const range = req.headers.range
        const up = await fetch(upstream + (req.url ?? ''), { headers: { accept: req.headers.accept ?? '', ...(range != null ? { range } : {}) } })
        const body = Buffer.from(await up.arrayBuffer())
        const contentRange = up.headers.get('content-range')
        res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? '', 'content-length': String(body.length), ...(contentRange != null ? { 'content-range': contentRange } : {}) })
        // Counted as the body is handed to the socket: bytes a killed client never read still count as fetched.
        const cid = /^\/ipfs\/([^/?]+)/.exec(req.url ?? '')?.[1] ?? '?'
        if ((req.headers.accept ?? '').includes('car')) this.carBytes += body.length
        else if (range != null) this.rangeBytes += body.length
        else this.served.push({ cid, bytes: body.length })
        res.end(body)
      })().catch(() => res.destroy())
    })
  }

  async listen (): Promise<void> {
    await new Promise<void>(resolve => this.server.listen(0, '127.0.0.1', resolve))
    const a = this.server.address()
    this.url = `http://127.0.0.1:${typeof a === 'object' && a != null ? a.port : 0}`
  }

  async close (): Promise<void> {
    this.server.closeAllConnections()
    await new Promise(resolve => this.server.close(resolve))
  }
}

const indexTs = fileURLToPath(new URL('../src/index.ts', import.meta.url))

/** Starts a pull in a child process (the way the CLI or the service would run it). */
function childPull (home: string, cid: string, id: string, source: string, rangeBytes: number, concurrency: number, byteRanges = true): ReturnType<typeof spawn> {
  const code = `
    const { loadConfig, pull, GatewaySource } = await import(${JSON.stringify(indexTs)})
    const config = await loadConfig({ home: ${JSON.stringify(home)} })
    const sources = [new GatewaySource(${JSON.stringify(source)}, { byteRanges: ${String(byteRanges)} })]
    await pull({ cid: ${JSON.stringify(cid)}, config, name: ${JSON.stringify(id)}, sources, rangeBytes: ${rangeBytes}, concurrency: ${concurrency} })
  `
  return spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, IPFS_TELEMETRY: 'off' } })
}

async function waitFor (cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time')
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

async function journalState (home: string, cid: string): Promise<{ leaves: Set<string>, blocks: Set<string> }> {
  const dir = join(home, 'tmp', 'pulls', 'v1', cid)
  const log = await readFile(join(dir, 'leaves.log'), 'utf8').catch(() => '')
  const leaves = new Set(log.split('\n').filter(l => l.split('\t').length === 4).map(l => l.split('\t')[2] as string))
  const blocks = new Set((await readdir(join(dir, 'blocks')).catch(() => [])).filter(n => !n.includes('.tmp')))
  return { leaves, blocks }
}

let h: TestHome
let proxy: CountingProxy
before(async () => {
  h = await makeTestHome('auto_pin = false')
  const gw = (await h.manager.start()).status.gatewayUrl
  proxy = new CountingProxy(gw)
  await proxy.listen()
})
after(async () => {
  await proxy?.close()
  await h?.cleanup()
})

describe('resume after SIGKILL', () => {
  test('block by block: the restart refetches at most the blocks that were in flight', async (t) => {
    const data = bytesOf(24 * 1024 * 1024, 'resume-blocks')
    const cid = (await ipfs(h.config.paths.ipfsRepo, ['add', '-Q', '--pin=false', '--chunker=size-65536'], data)).toString().trim()
    const concurrency = 4
    proxy.served = []
    const child = childPull(h.home, cid, 'resumed', proxy.url, 0, concurrency)
    await waitFor(() => proxy.served.length >= 150, 60_000)
    child.kill('SIGKILL')
    await new Promise(resolve => child.once('exit', resolve))
    const firstRun = new Set(proxy.served.map(s => s.cid))
    const state = await journalState(h.home, cid)
    assert.ok(state.leaves.size > 50, `progress was persisted (${state.leaves.size} leaves)`)
    // Power loss can keep a journal line whose bytes never reached the disk: zero one logged leaf.
    // The restart must notice (it re-proves logged leaves from disk) and fetch that one again.
    const firstLine = (await readFile(join(h.home, 'tmp', 'pulls', 'v1', cid, 'leaves.log'), 'utf8')).split('\n')[0]?.split('\t') ?? []
    const damaged = firstLine[2] ?? ''
    const content = await open(join(h.home, 'tmp', 'pulls', 'v1', cid, 'content'), 'r+')
    await content.write(Buffer.alloc(Number(firstLine[1])), 0, Number(firstLine[1]), Number(firstLine[0]))
    await content.close()
    state.leaves.delete(damaged)

    proxy.served = []
    proxy.delayMs = 0
    const res = await pull({ cid, config: h.config, name: 'resumed', sources: [proxy.url], rangeBytes: 0, concurrency })
    assert.ok((await readFile(res.path)).equals(data), 'exact bytes after resume')
    assert.ok(proxy.served.some(s => s.cid === damaged), 'the damaged leaf was fetched again')
    const refetched = proxy.served.filter(s => firstRun.has(s.cid) && s.cid !== damaged)
    // Persisted work is never asked for again …
    for (const r of refetched) assert.ok(!state.leaves.has(r.cid) && !state.blocks.has(r.cid), `refetched ${r.cid} although it was on disk`)
    // … and what is asked for again is bounded by the requests that were in flight (one per worker).
    t.diagnostic(`killed after ${firstRun.size} blocks served; ${state.leaves.size} leaves persisted; restart refetched ${refetched.length} of them (${refetched.reduce((a, r) => a + r.bytes, 0)} B)`)
    assert.ok(refetched.length <= concurrency, `refetched ${refetched.length} blocks (${refetched.reduce((a, r) => a + r.bytes, 0)} B), at most ${concurrency} were in flight`)
    assert.ok(res.resumedBytes >= state.leaves.size * 65536 - 65536, 'resumed bytes reported')
  })

  test('two processes pulling the same CID share one download', async () => {
    const data = bytesOf(6 * 1024 * 1024, 'shared-across-processes')
    const cid = (await ipfs(h.config.paths.ipfsRepo, ['add', '-Q', '--pin=false', '--chunker=size-65536'], data)).toString().trim()
    proxy.served = []
    proxy.delayMs = 5
    const child = childPull(h.home, cid, 'twice', proxy.url, 0, 4)
    const exited = new Promise(resolve => child.once('exit', resolve))
    await waitFor(() => proxy.served.length >= 5, 30_000)
    const res = await pull({ cid, config: h.config, name: 'twice', sources: [proxy.url], rangeBytes: 0 })
    const code = await exited
    assert.equal(code, 0)
    assert.equal(res.alreadyPresent, true, 'the second pull waited for the first and used its result')
    assert.ok((await readFile(res.path)).equals(data))
    const cids = proxy.served.map(s => s.cid)
    assert.equal(new Set(cids).size, cids.length, 'no block was fetched twice')
  })

  for (const byteRanges of [true, false]) {
    const label = byteRanges ? 'byte ranges' : 'CAR ranges'
    test(`${label}: the restart refetches at most what was in flight`, async (t) => {
      const data = bytesOf(32 * 1024 * 1024, `resume-${label}`)
      const cid = (await ipfs(h.config.paths.ipfsRepo, ['add', '-Q', '--pin=false', '--chunker=size-65536'], data)).toString().trim()
      const rangeBytes = 4 * 1024 * 1024
      const concurrency = 2
      proxy.carBytes = 0
      proxy.rangeBytes = 0
      proxy.delayMs = 10
      const child = childPull(h.home, cid, `resumed-${byteRanges ? 'bytes' : 'car'}`, proxy.url, rangeBytes, concurrency, byteRanges)
      // Kill once a few ranges have been served completely (four: what was served may still sit in socket
      // buffers, and a range read's journal lines are written a moment after its leaves, fetch/journal.ts noteLeaf).
      await waitFor(() => proxy.carBytes + proxy.rangeBytes >= 4 * rangeBytes, 60_000)
      child.kill('SIGKILL')
      await new Promise(resolve => child.once('exit', resolve))
      const state = await journalState(h.home, cid)
      const persisted = state.leaves.size * 65536
      assert.ok(persisted >= 2 * rangeBytes, `progress was persisted (${persisted} B)`)

      proxy.carBytes = 0
      proxy.rangeBytes = 0
      proxy.served = []
      proxy.delayMs = 0
      const sources = [new GatewaySource(proxy.url, { byteRanges })]
      const res = await pull({ cid, config: h.config, name: `resumed-${byteRanges ? 'bytes' : 'car'}`, sources, rangeBytes, concurrency })
      assert.ok((await readFile(res.path)).equals(data), 'exact bytes after resume')
      if (byteRanges) assert.ok(proxy.rangeBytes > 0 && proxy.carBytes === 0, 'the restart used byte ranges')
      const fetchedAgain = proxy.carBytes + proxy.rangeBytes + proxy.served.reduce((a, s) => a + s.bytes, 0)
      const missing = data.length - persisted
      // In flight at the kill: at most one range per stream; interior nodes on each range's path cost a few KB.
      const slack = concurrency * rangeBytes + 64 * 1024
      t.diagnostic(`persisted ${persisted} B at the kill; restart fetched ${fetchedAgain} B for ${missing} B missing`)
      assert.ok(fetchedAgain <= missing + slack, `restart fetched ${fetchedAgain} B for ${missing} B missing (slack ${slack})`)
      assert.ok(fetchedAgain < data.length, 'the restart did not start over')
    })
  }
})
