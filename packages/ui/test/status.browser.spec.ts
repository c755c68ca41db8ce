/**
 * Node status in a real Chromium against a real `serve` and kubo (online,
 * loopback-only, so kubo answers stats/bw): peers, storage, free disk, a live
 * bandwidth chart drawn from the service's samples, the log tail; the pins
 * page labels kubo's empty-folder pin and offers no Unpin for it, with sizes;
 * the favicon loads (no 404 anywhere). Screenshots in test-results/screenshots/.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Page } from 'playwright-core'
import { KUBO_EMPTY_FOLDER_CID } from '@citrate-ipfs/contract'
import { type RunningService } from '../../service/src/index.ts'
import { assertNoHorizontalOverflow, screenshot, until } from './helpers/browser.ts'
import { goOnlineLoopbackOnly } from './helpers/online.ts'
import { closeUiWorld, openUiWorld, type UiWorld } from './helpers/world.ts'

let w: UiWorld
let svc: RunningService
let page: Page
const responses: Array<{ url: string, status: number }> = []

before(async () => {
  w = await openUiWorld({
    prepareHome: goOnlineLoopbackOnly,
    preparePage: (p) => { p.on('response', r => { responses.push({ url: r.url(), status: r.status() }) }) }
  })
  ;({ svc, page } = w)
})
after(async () => { await closeUiWorld(w) })

describe('status UI (Chromium)', () => {
  test('peers, storage, free disk, a live bandwidth chart and the log tail', async () => {
    await page.goto(`${svc.url}/#/status`)
    const chart = page.getByTestId('bandwidth-chart')
    await chart.waitFor({ timeout: 15_000 })
    // Live: the line gains a point per poll (two points need two samples).
    await until('three bandwidth samples on the chart', async () => ((await chart.getByTestId('line-in').getAttribute('points')) ?? '').trim().split(' ').length >= 3 ? true : undefined, 15_000)
    assert.match(await chart.locator('svg').getAttribute('aria-label') ?? '', /^Bandwidth chart\. Now: in [\d.]+ [KMG]?B\/s, out [\d.]+ [KMG]?B\/s/)
    assert.equal(await page.getByTestId('stat-peers').locator('.tile-value').innerText(), '0')
    assert.match(await page.getByTestId('stat-repo').locator('.tile-value').innerText(), /^[\d.]+ [KMG]?B$/)
    assert.match(await page.getByTestId('stat-disk').innerText(), /[\d.]+ [KMGT]?B[\s\S]*of [\d.]+ [KMGT]?B/)
    assert.match(await page.getByTestId('log-tail').innerText(), /Daemon is ready/)
    await screenshot(page, '50-status-1280')
    await page.setViewportSize({ width: 390, height: 900 })
    await assertNoHorizontalOverflow(page, 'status at 390 px')
    await screenshot(page, '51-status-390')
    await page.setViewportSize({ width: 1280, height: 900 })
  })

  test('pins: kubo\'s empty folder is labelled and has no Unpin; pins show their sizes', async () => {
    await page.goto(`${svc.url}/#/pins`)
    const empty = page.getByTestId(`pin-${KUBO_EMPTY_FOLDER_CID}`)
    await empty.waitFor({ timeout: 15_000 })
    assert.match(await empty.innerText(), /empty folder \(kubo built-in\)/)
    assert.equal(await empty.getByRole('button', { name: 'Unpin' }).count(), 0)
    assert.equal(await empty.getByTestId('pin-size').innerText(), ' · 4 B')
    await screenshot(page, '52-pins-builtin')
  })

  test('the favicon loads, and nothing the UI asked for was a 404', async () => {
    const icon = responses.find(r => r.url.endsWith('/favicon.svg'))
    assert.equal(icon?.status, 200, 'the favicon was requested and served')
    assert.deepEqual(responses.filter(r => r.status === 404), [])
  })
})
