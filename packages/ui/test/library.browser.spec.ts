/**
 * The library's layout and a model's details page in a real Chromium against
 * a real `serve` and kubo: a model whose name is a 46-character CID must not
 * widen the page at 1280 or 390 px, Remove stays on screen, the CID is cut
 * with an ellipsis but copyable and readable in full (title, accessible name).
 * Screenshots in test-results/screenshots/.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { startService, type RunningService } from '../../service/src/index.ts'
import { assertInViewport, assertNoHorizontalOverflow, invoke, launchChromium, screenshot, signIn, until, UI_DIR as uiDir } from './helpers/browser.ts'
import { addBytes, makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'
import { chachaBytes } from '../../core/test/helpers/content.ts'

let h: TestHome
let svc: RunningService
let browser: Browser
let context: BrowserContext
let page: Page
let scratch: string
/** The model's CID, which is also its name (the longest name a CIDv0 paste gives). */
let cid = ''

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'citrate-ui-library-'))
  h = await makeTestHome()
  await h.manager.start()
  svc = await startService({ home: h.home, port: 0, uiDir, env: h.env })
  cid = await addBytes(join(h.home, 'ipfs'), scratch, 'weights.bin', chachaBytes('ui-library', 300_000), false)
  assert.equal(cid.length, 46)
  await invoke(svc, 'ipfs_download_model', { cid, name: cid })
  await until('the download to complete', async () => {
    const { models } = await invoke<{ models: Array<{ id: string }> }>(svc, 'ipfs_list_models')
    return models.some(m => m.id === cid) ? true : undefined
  })
  browser = await launchChromium()
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: svc.url })
  page = await context.newPage()
  page.on('dialog', d => { void d.accept() })
  await signIn(page, svc)
})
after(async () => {
  await browser?.close()
  await svc?.close()
  await h?.cleanup()
  await rm(scratch, { recursive: true, force: true })
})

describe('library layout (Chromium)', () => {
  for (const width of [1280, 390, 360]) {
    test(`at ${width} px a CID-named model fits: no horizontal overflow, Remove on screen, the CID whole on hover and focus`, async () => {
      await page.setViewportSize({ width, height: 800 })
      await page.goto(`${svc.url}/#/models`)
      const row = page.getByTestId(`model-${cid}`)
      await row.waitFor({ timeout: 15_000 })
      await assertNoHorizontalOverflow(page, `models at ${width} px`)
      await assertInViewport(page, row.getByRole('button', { name: 'Remove' }), 'Remove')
      await assertInViewport(page, row.getByRole('button', { name: 'Verify' }), 'Verify')
      const cidValue = row.getByLabel(`CID of ${cid}: ${cid}`)
      assert.equal(await cidValue.getAttribute('title'), cid, 'the full CID is the hover title')
      // Cut, not wrapped: one line, narrower than its text.
      const cut = await cidValue.evaluate(el => ({ scroll: el.scrollWidth, client: el.clientWidth, overflow: (el.ownerDocument.defaultView as unknown as { getComputedStyle: (e: unknown) => { textOverflow: string } }).getComputedStyle(el).textOverflow }))
      assert.equal(cut.overflow, 'ellipsis')
      assert.ok(cut.client < cut.scroll, `the CID is truncated (${cut.client} < ${cut.scroll} px)`)
      await screenshot(page, `20-library-${width}`)
    })
  }

  test('the copy button copies the whole CID and says so', async () => {
    await page.setViewportSize({ width: 1280, height: 800 })
    const row = page.getByTestId(`model-${cid}`)
    await row.getByRole('button', { name: `Copy CID of ${cid}` }).click()
    await row.getByRole('status').filter({ hasText: 'Copied' }).waitFor()
    assert.equal(await page.evaluate<string>('navigator.clipboard.readText()'), cid)
  })

  test('keyboard: Tab reaches the CID (its full value as the accessible name), its copy button, Verify and Remove', async () => {
    await page.goto(`${svc.url}/#/models`)
    await page.reload()
    await page.getByTestId(`model-${cid}`).waitFor({ timeout: 15_000 })
    const names: string[] = []
    for (let i = 0; i < 40 && !names.some(n => n.startsWith('Remove')); i++) {
      await page.keyboard.press('Tab')
      names.push(await page.evaluate<string>("document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent ?? ''"))
    }
    const order = [`Details of ${cid}`, `CID of ${cid}: ${cid}`, `Copy CID of ${cid}`, `Verify ${cid}`, `Remove ${cid}`].map(n => names.indexOf(n))
    assert.ok(order.every(i => i >= 0), `focus order ${JSON.stringify(names)}`)
    assert.deepEqual([...order].sort((a, b) => a - b), order, 'in reading order')
  })
})
