/**
 * The library's layout and a model's details page in a real Chromium against
 * a real `serve` and kubo: a model whose name is a 46-character CID must not
 * widen the page at 1280 or 390 px, Remove stays on screen, the CID is cut
 * with an ellipsis but copyable and readable in full (title, accessible name).
 * The details page shows what the GGUF header says, the CID with copy and
 * share links, path, pins and verification, and removes the model.
 * Screenshots in test-results/screenshots/.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { type RunningService } from '../../service/src/index.ts'
import { assertInViewport, assertNoHorizontalOverflow, invoke, screenshot, until } from './helpers/browser.ts'
import { addBytes } from '../../core/test/helpers/kubo.ts'
import { closeUiWorld, openUiWorld, type UiWorld } from './helpers/world.ts'
import { tinyGguf } from '../../core/test/fixtures/model-files.ts'

let w: UiWorld
let svc: RunningService
let page: Page
let scratch: string
/** The model's CID, which is also its name (the longest name a CIDv0 paste gives). */
let cid = ''

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'citrate-ui-library-'))
  w = await openUiWorld({
    clipboard: true,
    viewport: { width: 1280, height: 800 },
    prepareService: async ({ h, svc }) => {
      cid = await addBytes(join(h.home, 'ipfs'), scratch, 'tiny.gguf', tinyGguf(), false)
      assert.equal(cid.length, 46)
      await invoke(svc, 'ipfs_download_model', { cid, name: cid })
      await until('the download to complete', async () => {
        const { models } = await invoke<{ models: Array<{ id: string }> }>(svc, 'ipfs_list_models')
        return models.some(m => m.id === cid) ? true : undefined
      })
    },
    preparePage: (p) => { p.on('dialog', d => { void d.accept() }) }
  })
  ;({ svc, page } = w)
})
after(async () => {
  await closeUiWorld(w)
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

  test('the library row names architecture, parameters and quantization from the model\'s header', async () => {
    await page.setViewportSize({ width: 1280, height: 800 })
    await page.goto(`${svc.url}/#/models`)
    const row = page.getByTestId(`model-${cid}`)
    await row.waitFor({ timeout: 15_000 })
    assert.match(await row.locator('.col-name .hint').innerText(), /^model · llama · \d+K parameters · Q4_K_M$/)
  })

  for (const width of [1280, 390]) {
    test(`details page at ${width} px: metadata, CID with copy and share links, path, pins, verification; nothing overflows`, async () => {
      await page.setViewportSize({ width, height: 900 })
      await page.goto(`${svc.url}/#/models`)
      await page.getByRole('link', { name: `Details of ${cid}` }).click()
      await page.getByRole('heading', { level: 1, name: cid }).waitFor({ timeout: 15_000 })
      assert.equal(page.url(), `${svc.url}/#/models/${cid}`)
      const info = await page.getByTestId('model-info').innerText()
      for (const fact of [/Format\s+gguf/, /Architecture\s+llama/, /Declared name\s+Tiny Llama Test/, /Parameters\s+\d+K \([\d,]+\)/, /Quantization\s+Q4_K_M/, /Context length\s+2,048/, /Layers\s+2/, /License\s+apache-2\.0/]) {
        assert.match(info, fact)
      }
      assert.equal(await page.getByTestId('detail-cid').locator('.truncate').getAttribute('title'), cid)
      assert.equal(await page.getByTestId('share-ipfs').locator('.truncate').getAttribute('title'), `ipfs://${cid}`)
      assert.match(await page.getByTestId('share-gateway').locator('.truncate').getAttribute('title') ?? '', new RegExp(`^https?://[^/]+/ipfs/${cid}$`))
      assert.ok((await page.getByTestId('detail-path').locator('.truncate').getAttribute('title') ?? '').includes(cid), 'the path is in the model\'s folder')
      // auto_pin pinned it on download: the pin is listed with the model.
      await page.getByTestId('model-pins').getByLabel(`pinned CID: ${cid}`).waitFor({ timeout: 10_000 })
      assert.match(await page.getByTestId('verification').innerText(), /Verified/)
      await assertNoHorizontalOverflow(page, `details at ${width} px`)
      await assertInViewport(page, page.getByRole('button', { name: 'Remove' }), 'Remove')
      await screenshot(page, `21-model-details-${width}`)
    })
  }

  test('details page: Verify re-checks every byte and says when; share link copies; Remove goes back to an empty library', async () => {
    await page.setViewportSize({ width: 1280, height: 900 })
    await page.getByRole('button', { name: 'Verify' }).click()
    await page.getByTestId('verification').filter({ hasText: /Checked .*: every byte matches/ }).waitFor({ timeout: 30_000 })
    await page.getByTestId('share-ipfs').getByRole('button', { name: 'Copy IPFS link' }).click()
    await page.getByTestId('share-ipfs').getByRole('status').filter({ hasText: 'Copied' }).waitFor()
    assert.equal(await page.evaluate<string>('navigator.clipboard.readText()'), `ipfs://${cid}`)
    await page.getByRole('button', { name: 'Remove' }).click()
    await page.getByTestId('no-models').waitFor({ timeout: 15_000 })
    assert.equal(page.url(), `${svc.url}/#/models`)
  })
})
