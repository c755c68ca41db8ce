/**
 * Downloads that explain themselves, in a real Chromium against a real
 * `serve` and kubo: content no source has fails with a still row, a plain
 * message, a hint that fits (IPFS runs and a gateway is set, so it does not
 * say to do either), the sources' raw errors behind "Details"; Retry works
 * once the content exists; Dismiss is remembered by the service across a
 * reload; the user's own Cancel reads "Cancelled"; a completion raises a toast. Screenshots in test-results/screenshots/.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { startService, type RunningService } from '../../service/src/index.ts'
import { assertNoHorizontalOverflow, invoke, launchChromium, screenshot, signIn, UI_DIR as uiDir } from './helpers/browser.ts'
import { addBytes, ipfs, makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'
import { chachaBytes } from '../../core/test/helpers/content.ts'

let h: TestHome
let svc: RunningService
let browser: Browser
let page: Page
let scratch: string

/** A CID for bytes no source has (hashed, never stored). */
async function missingCid (bytes: Buffer): Promise<string> {
  return (await ipfs(join(h.home, 'ipfs'), ['add', '-Q', '--only-hash', '--pin=false'], bytes)).toString().trim()
}

async function download (cid: string, name: string): Promise<void> {
  await page.getByRole('textbox', { name: 'CID', exact: true }).fill(cid)
  await page.getByLabel('Name (optional)', { exact: true }).fill(name)
  await page.getByRole('button', { name: 'Download', exact: true }).click()
}

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'citrate-ui-downloads-'))
  // The test home runs kubo offline, with a fallback gateway that refuses connections: IPFS runs and a gateway is set.
  h = await makeTestHome()
  await h.manager.start()
  svc = await startService({ home: h.home, port: 0, uiDir, env: h.env })
  browser = await launchChromium()
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  await signIn(page, svc)
})
after(async () => {
  await browser?.close()
  await svc?.close()
  await h?.cleanup()
  await rm(scratch, { recursive: true, force: true })
})

describe('downloads UI (Chromium)', () => {
  const wanted = chachaBytes('ui-wanted', 400_000)

  test('a failed download is still, says what happened in plain words with a hint that fits, raw errors behind Details; Retry works', async () => {
    const cid = await missingCid(wanted)
    await page.goto(`${svc.url}/#/models`)
    await page.getByTestId('no-models').waitFor({ timeout: 15_000 })
    await download(cid, 'wanted')
    const row = page.getByTestId('download-wanted')
    await row.getByTestId('download-status').filter({ hasText: /^Failed$/ }).waitFor({ timeout: 60_000 })
    // Still: a determinate bar (an indeterminate <progress> animates), no live stats.
    assert.notEqual(await row.getByRole('progressbar').getAttribute('value'), null, 'the bar of a failed download is not animated')
    const alert = row.getByRole('alert')
    const hint = await alert.innerText()
    assert.match(hint, /No source could provide this content/)
    assert.match(hint, /Neither your IPFS node \(running offline\) nor your gateways could provide this content/)
    assert.doesNotMatch(hint, /Start IPFS|set an external gateway/, 'IPFS runs and a gateway is set: the hint does not ask for either')
    const details = alert.locator('details')
    assert.equal(await details.getAttribute('open'), null, 'raw errors are folded away')
    assert.equal(await alert.locator('.detail-text').isVisible(), false)
    await alert.getByText('Details').click()
    assert.match(await alert.locator('.detail-text').innerText(), /127\.0\.0\.1/, 'the sources\' own errors are one click away')
    await screenshot(page, '30-download-failed-1280')
    await page.setViewportSize({ width: 390, height: 900 })
    await assertNoHorizontalOverflow(page, 'a failed download at 390 px')
    await screenshot(page, '31-download-failed-390')
    await page.setViewportSize({ width: 1280, height: 900 })

    // Now some source has it: Retry finishes the download.
    assert.equal(await addBytes(join(h.home, 'ipfs'), scratch, 'wanted.bin', wanted, false), cid)
    await row.getByRole('button', { name: 'Retry' }).click()
    await page.getByTestId('model-wanted').waitFor({ timeout: 60_000 })
    await row.waitFor({ state: 'detached' })
    // A download that finishes while the app is open says so, on any page.
    const toast = page.getByTestId('toast').filter({ hasText: /^Downloaded wanted \([\d.]+ KB\), verified against its CID\./ })
    await toast.waitFor({ timeout: 10_000 })
    await screenshot(page, '34-download-complete-toast')
    await toast.getByRole('button', { name: 'Close notification' }).click()
    await toast.waitFor({ state: 'detached' })
  })

  test('Dismiss is remembered by the service: the row does not come back after a reload', async () => {
    await download(await missingCid(chachaBytes('ui-gone', 1000)), 'gone')
    const row = page.getByTestId('download-gone')
    await row.getByTestId('download-status').filter({ hasText: /^Failed$/ }).waitFor({ timeout: 60_000 })
    await row.getByRole('button', { name: 'Dismiss' }).click()
    await row.waitFor({ state: 'detached', timeout: 10_000 })
    await page.reload()
    await page.getByTestId('model-wanted').waitFor({ timeout: 15_000 })
    assert.equal(await page.getByTestId('download-gone').count(), 0, 'a dismissed download stays dismissed')
    const { downloads } = await invoke<{ downloads: Array<{ id: string }> }>(svc, 'ipfs_list_downloads')
    assert.ok(!downloads.some(d => d.id === 'gone'))
  })

  test('your own Cancel reads "Cancelled", not a failure, and offers to download again', async () => {
    const cid = await addBytes(join(h.home, 'ipfs'), scratch, 'slow.bin', chachaBytes('ui-slow', 3 * 1024 * 1024), false)
    await invoke(svc, 'ipfs_set_download_limit', { mbps: 0.2 })
    try {
      await download(cid, 'slow')
      const row = page.getByTestId('download-slow')
      await row.getByTestId('download-status').filter({ hasText: /^Downloading$/ }).waitFor({ timeout: 30_000 })
      await row.getByRole('button', { name: 'Cancel' }).click()
      await row.getByTestId('download-status').filter({ hasText: /^Cancelled$/ }).waitFor({ timeout: 15_000 })
      assert.equal(await row.getByRole('alert').count(), 0, 'no error panel for a cancel')
      assert.equal(await row.locator('.badge.bad').count(), 0, 'no red badge')
      await row.getByTestId('download-cancelled').waitFor()
      await row.getByRole('button', { name: 'Download again' }).waitFor()
      await screenshot(page, '32-download-cancelled')
      await row.getByRole('button', { name: 'Dismiss' }).click()
      await row.waitFor({ state: 'detached', timeout: 10_000 })
    } finally {
      await invoke(svc, 'ipfs_set_download_limit', { mbps: 0 })
    }
  })

  test('with IPFS stopped, the hint says to start it (the gateway is set, so not to set one)', async () => {
    await invoke(svc, 'ipfs_stop_daemon')
    await page.reload()
    await page.getByTestId('model-wanted').waitFor({ timeout: 15_000 })
    await download(await missingCid(chachaBytes('ui-stopped', 1000)), 'while-stopped')
    const row = page.getByTestId('download-while-stopped')
    await row.getByTestId('download-status').filter({ hasText: /^Failed$/ }).waitFor({ timeout: 60_000 })
    const hint = row.getByRole('alert')
    await hint.filter({ hasText: /Start IPFS on the Setup page so it can be found/ }).waitFor({ timeout: 10_000 })
    assert.doesNotMatch(await hint.innerText(), /set an external gateway/)
    await screenshot(page, '33-download-failed-ipfs-stopped')
  })
})
