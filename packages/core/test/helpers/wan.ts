/**
 * An emulated WAN in front of a loopback gateway (the test kubo's): each named
 * link is a listener of one tools/wanproxy process, with its own round-trip
 * time, bandwidth caps and faults, so a test can pull from "three gateways of
 * different speeds, one of them flaky" that are all one kubo. The proxy exits
 * when this process's end of its stdin closes, so a crashed test leaves nothing
 * running. It only listens on and dials 127.0.0.1.
 *
 *   const wan = await startWan(status.gatewayUrl, [{ name: 'fast', rttMs: 20, connRate: 24e6 }, { name: 'flaky', resetProb: 0.3 }])
 *   wan.url('fast') // http://127.0.0.1:…
 *   await wan.set('flaky', { stallAfter: 1 << 20 })
 *   (await wan.stats()).find(s => s.name === 'fast')?.bytesDown
 *   await wan.stop()
 */
import { ensureWanproxy } from '../../../../tools/wanproxy/build.mjs'
import { startWanproxy, type Wan, type WanLink } from '../../../../tools/wanproxy/client.mjs'

export type { Wan, WanGateway, WanLink, WanStats } from '../../../../tools/wanproxy/client.mjs'

/** The proxy binary: $CITRATE_TEST_WANPROXY (set by `npm test`), else built into the cache on first use. */
export function wanproxyBinary (): string {
  return ensureWanproxy()
}

/** Starts one proxy with a listener per link, all forwarding to `upstreamUrl`. */
export async function startWan (upstreamUrl: string, links: WanLink[]): Promise<Wan> {
  return await startWanproxy(wanproxyBinary(), upstreamUrl, links)
}
