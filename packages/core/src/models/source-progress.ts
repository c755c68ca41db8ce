/**
 * Each source's part in a pull, for progress events and the result: sampled
 * from the retrieval's per-source counters (fetch/fetcher.ts sourceStats) on
 * the pull's progress timer, never per chunk.
 */
import type { SourceProgress } from '@citrate-ipfs/contract'
import type { SourceReport } from '../fetch/index.ts'
import type { SourceShare } from './types.ts'

/** Smoothing of each source's speed: the same 0.6/0.4 blend as the pull's own figure (readable, a stall shows within ~1 s). */
const KEEP = 0.6

export class SourceSampler {
  private readonly last = new Map<string, { bytes: number, speed: number }>()

  /** Each source now; `dt` seconds since the previous sample (0: first sample, speeds 0). */
  sample (stats: SourceReport[], dt: number, paused: boolean): SourceProgress[] {
    return stats.map((s) => {
      const prev = this.last.get(s.source) ?? { bytes: 0, speed: 0 }
      const rate = dt > 0 ? (s.bytes - prev.bytes) / dt / 1e6 : 0
      const speed = paused || s.state === 'dropped' ? 0 : round2(prev.speed * KEEP + rate * (1 - KEEP))
      this.last.set(s.source, { bytes: s.bytes, speed })
      const reason = s.state === 'dropped' ? s.dropReason : s.state === 'cooling' ? s.lastFailure : undefined
      return { name: s.source, bytes: s.bytes, speed_mbps: speed, state: s.state, ...(reason != null ? { reason } : {}) }
    })
  }
}

/** The result's per-source shares: what each delivered and why any was dropped. */
export function sourceShares (stats: SourceReport[]): SourceShare[] {
  const total = stats.reduce((n, s) => n + s.bytes, 0)
  return stats.map(s => ({
    name: s.source,
    kind: s.kind,
    bytes: s.bytes,
    share: total > 0 ? Math.round((s.bytes / total) * 1000) / 1000 : 0,
    speed_mbps: round2(s.bytesPerSecond / 1e6),
    requests: s.requests,
    failures: s.failures,
    dropped: s.dropped,
    ...(s.dropReason != null ? { reason: s.dropReason } : {})
  }))
}

function round2 (x: number): number {
  return Math.round(x * 100) / 100
}
