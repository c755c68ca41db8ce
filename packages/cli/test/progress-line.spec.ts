/**
 * The progress line's text (src/progress.ts) at every width from 10 to 200
 * columns: it never exceeds the width, the most needed parts stay longest,
 * and speed is over a moving window, not since the start.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { DownloadProgress } from '@citrate-ipfs/contract'
import { progressLine, RateWindow, stoppedAt } from '../src/progress.ts'

const base: DownloadProgress = { cid: 'bafy', total_bytes: 4.7e9, downloaded_bytes: 2.1e9, progress_percent: 44.7, speed_mbps: 38, eta_seconds: 68, status: 'Downloading', source: 'daemon' }
const sources = [
  { name: 'daemon', bytes: 1e9, speed_mbps: 30, state: 'active' as const },
  { name: 'https://gateway.example.com', bytes: 5e8, speed_mbps: 8, state: 'active' as const },
  { name: 'https://ipfs.io', bytes: 1e8, speed_mbps: 0, state: 'cooling' as const, reason: 'HTTP 429' }
]

describe('progress line', () => {
  test('fits every width from 10 to 200 columns; at 80 the numbers, speed, time left and sources are all there', () => {
    for (const status of ['Queued', 'Connecting', 'Downloading', 'Verifying'] as const) {
      for (let width = 10; width <= 200; width++) {
        const line = progressLine({ progress: { ...base, status, sources }, rate: 38e6, phaseMs: 12_000, label: 'pulling bafybeig…xyz123' }, width)
        assert.ok([...line].length <= width, `${status} at ${width}: ${line}`)
      }
    }
    const at80 = progressLine({ progress: { ...base, sources }, rate: 38e6, phaseMs: 0, label: 'pulling bafybeig…xyz123' }, 79)
    assert.match(at80, /44% 2\.1\/4\.7 GB · 38\.0 MB\/s · 1m08s left · 3 sources \(1 cooling down\)$/)
    const at40 = progressLine({ progress: { ...base, sources }, rate: 38e6, phaseMs: 0, label: 'pulling bafybeig…xyz123' }, 40)
    assert.equal(at40, '44% 2.1/4.7 GB · 38.0 MB/s · 1m08s left', 'the label and sources go first')
    const connecting = progressLine({ progress: { ...base, status: 'Connecting', total_bytes: 0, downloaded_bytes: 0, source: 'https://gateway.example.com', sources }, rate: undefined, phaseMs: 12_400, label: '' }, 200)
    assert.equal(connecting, 'connecting · 12s · asking https://gateway.example.com (2 of 3 sources)')
  })

  test('speed is over the last 5 s: a fast first second (a resume, a burst) is forgotten', () => {
    const w = new RateWindow(5000)
    w.add(0, 0)
    assert.equal(w.rate(), undefined, 'nothing to say from one sample')
    w.add(1000, 150e6) // a burst
    for (let t = 2000; t <= 10_000; t += 1000) w.add(t, 150e6 + (t - 1000) / 1000 * 3e6)
    const r = w.rate() ?? 0
    assert.ok(Math.abs(r - 3e6) < 0.1e6, `about 3 MB/s, not the average since the start: ${r}`)
  })

  test('where a stopped pull got to', () => {
    assert.equal(stoppedAt({ ...base }), '44% (2.1/4.7 GB verified)')
    assert.equal(stoppedAt({ ...base, total_bytes: 0, downloaded_bytes: 0 }), '0% (nothing verified yet)')
  })
})
