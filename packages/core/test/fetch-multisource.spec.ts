/**
 * Every healthy source at once, over an emulated WAN (tools/wanproxy) in
 * front of the real test kubo: several gateways share one pull; a gateway
 * that cuts every answer after 1 MiB still finishes a pull alone; a stalled
 * or silent gateway's work moves to the others; the tail is split or hedged
 * onto the faster source. Asserted through the retrieval's per-source stats
 * and tail counters, not wall time (except "not answering within 5 s", which
 * the issue names).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { GatewaySource, Retrieval, type BlockSource } from '../src/index.ts'
import { chachaBytes } from './helpers/content.ts'
import { ipfs, makeTestHome, type TestHome } from './helpers/kubo.ts'
import { startWan, type Wan, type WanLink } from './helpers/wan.ts'

const MiB = 1024 * 1024
let h: TestHome
let upstream: string
let work: string
const wans: Wan[] = []
const data = chachaBytes('multisource', 20 * MiB + 12345)
let cid: CID

before(async () => {
  h = await makeTestHome('auto_pin = false')
  upstream = (await h.manager.start()).status.gatewayUrl
  cid = CID.parse((await ipfs(h.config.paths.ipfsRepo, ['add', '-Q', '--pin=false', '--raw-leaves'], data)).toString().trim())
  work = await mkdtemp(join(tmpdir(), 'citrate-multisource-'))
})
after(async () => {
  for (const w of wans) await w.stop()
  await h?.cleanup()
  await rm(work, { recursive: true, force: true })
})

async function wan (links: WanLink[]): Promise<Wan> {
  const w = await startWan(upstream, links)
  wans.push(w)
  return w
}

let runs = 0
interface Run { r: Retrieval, failures: Array<{ source: string, reason: string, dropped: boolean, at: number }>, startedAt: number }

/** One retrieval run of the 20 MiB file from `sources`; checks the bytes. */
async function retrieve (sources: BlockSource[], rangeBytes = 64 * MiB): Promise<Run> {
  const signal = new AbortController().signal
  const r = await Retrieval.open(cid, join(work, `run-${runs++}`), { signal })
  const failures: Run['failures'] = []
  const startedAt = Date.now()
  try {
    await r.run({ sources, signal, maxBytes: 1e9, rangeBytes, fsync: false, onSourceFailed: f => { failures.push({ ...f, at: Date.now() - startedAt }) } })
    assert.ok((await readFile(r.contentPath)).equals(data), 'exact bytes')
  } finally {
    await r.close()
  }
  return { r, failures, startedAt }
}

const gw = (w: Wan, name: string, opts: { stallMs?: number } = {}): GatewaySource => new GatewaySource(w.url(name), { name, stallMs: opts.stallMs ?? 20_000 })
const bytesOf = (run: Run, name: string): number => run.r.sourceStats.find(s => s.source === name)?.bytes ?? 0

describe('several sources in one pull', () => {
  test('three capped gateways all deliver bytes of one file', async () => {
    // 6 MB/s each: none can carry the pull alone, so the choice by expected finish spreads it.
    const w = await wan(['a', 'b', 'c'].map(name => ({ name, rttMs: 10, totalRate: 6e6 })))
    const run = await retrieve([gw(w, 'a'), gw(w, 'b'), gw(w, 'c')])
    for (const name of ['a', 'b', 'c']) assert.ok(bytesOf(run, name) > 0, `${name} delivered: ${JSON.stringify(run.r.sourceStats)}`)
  })

  test('a gateway that resets every connection after 1 MiB, as the only source, finishes the pull in one run', async () => {
    const w = await wan([{ name: 'cutter', cutAfter: MiB }])
    const run = await retrieve([gw(w, 'cutter')], 8 * MiB)
    const s = run.r.sourceStats[0]
    assert.ok(s != null && s.failures >= 2, `it did cut answers short (${JSON.stringify(s)})`)
    assert.equal(s.dropped, false)
  })

  test('a stalled gateway\'s pieces move to the other source within the stall timeout', async () => {
    // The good one at 5 MB/s (~4 s for the file): the stall (1.5 s of silence) must come before the
    // tail, or stealing and hedging would finish the stalled read's leaves before it is ever called stalled.
    const w = await wan([{ name: 'stalls', stallAfter: 512 * 1024 }, { name: 'good', rttMs: 5, totalRate: 5e6 }])
    const run = await retrieve([gw(w, 'stalls', { stallMs: 1500 }), gw(w, 'good', { stallMs: 1500 })])
    assert.ok(run.failures.some(f => f.source === 'stalls' && /stalled/.test(f.reason)), JSON.stringify(run.failures))
    assert.ok(bytesOf(run, 'good') > data.length / 2, `the good source carried the pull (${JSON.stringify(run.r.sourceStats)})`)
  })

  test('a gateway that never answers is reported within 5 s while the others finish the pull', async () => {
    const w = await wan([{ name: 'silent', noFirstByte: true }, { name: 'good', rttMs: 5, totalRate: 10e6 }])
    const run = await retrieve([gw(w, 'silent'), gw(w, 'good')])
    const told = run.failures.find(f => f.source === 'silent')
    assert.ok(told != null && /not answering/.test(told.reason), JSON.stringify(run.failures))
    assert.ok(told.at < 5000, `reported after ${told.at} ms`)
    assert.equal(bytesOf(run, 'silent'), 0)
  })

  test('the tail moves off a slow source: its last piece is split or hedged and the fast one finishes it', async () => {
    // The slow gateway is first in order, so it takes pieces first; at 1 MB/s it would hold the end.
    const w = await wan([{ name: 'slow', rttMs: 20, connRate: 1e6 }, { name: 'fast', rttMs: 5, totalRate: 40e6 }])
    const run = await retrieve([gw(w, 'slow'), gw(w, 'fast')])
    const tail = run.r.tailStats
    assert.ok(tail.steals + tail.hedges > 0, `the tail was reshaped (${JSON.stringify(tail)})`)
    assert.ok(bytesOf(run, 'fast') > bytesOf(run, 'slow'), JSON.stringify(run.r.sourceStats))
  })
})
