/**
 * The Settings screen in a real Chromium against a real `serve`: every
 * [ipfs] key with its explanation (restart-only keys marked), a change saved
 * and still there after a reload (and in citrate.toml), a bad value refused
 * with core's message naming the key, on its field, and nothing written.
 * Screenshots in test-results/screenshots/.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { IPFS_KEYS, KEY_DOCS } from '@citrate-ipfs/core'
import { type RunningService } from '../../service/src/index.ts'
import { assertNoHorizontalOverflow, screenshot } from './helpers/browser.ts'
import { type TestHome } from '../../core/test/helpers/kubo.ts'
import { closeUiWorld, openUiWorld, type UiWorld } from './helpers/world.ts'

let w: UiWorld
let h: TestHome
let svc: RunningService
let page: Page

before(async () => {
  w = await openUiWorld({ startDaemon: false })
  ;({ h, svc, page } = w)
})
after(async () => { await closeUiWorld(w) })

describe('settings UI (Chromium)', () => {
  test('every [ipfs] key is listed with its explanation; keys kubo reads at start say they need a restart', async () => {
    await page.goto(`${svc.url}/#/settings`)
    await page.getByTestId('setting-api_port').waitFor({ timeout: 15_000 })
    for (const key of IPFS_KEYS) {
      const text = await page.getByTestId(`setting-${key}`).innerText()
      assert.ok(text.includes(KEY_DOCS[key]), `${key} is explained`)
    }
    assert.match(await page.getByTestId('setting-api_port').innerText(), /needs an IPFS restart/)
    assert.doesNotMatch(await page.getByTestId('setting-max_model_size_gb').innerText(), /needs an IPFS restart/)
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 })
      await assertNoHorizontalOverflow(page, `settings at ${width} px`)
      await screenshot(page, `40-settings-${width}`)
    }
    await page.setViewportSize({ width: 1280, height: 900 })
  })

  test('a change is saved, survives a reload and is in citrate.toml', async () => {
    await page.getByLabel('max_model_size_gb').fill('30')
    await page.getByLabel('auto_pin').uncheck()
    await page.getByRole('button', { name: 'Save' }).click()
    const saved = page.getByTestId('settings-saved')
    await saved.waitFor({ timeout: 10_000 })
    assert.match(await saved.innerText(), /Saved (auto_pin, max_model_size_gb|max_model_size_gb, auto_pin)\./)
    await page.reload()
    await page.getByTestId('setting-api_port').waitFor({ timeout: 15_000 })
    assert.equal(await page.getByLabel('max_model_size_gb').inputValue(), '30')
    assert.equal(await page.getByLabel('auto_pin').isChecked(), false)
    const toml = await readFile(join(h.home, 'citrate.toml'), 'utf8')
    assert.match(toml, /^max_model_size_gb = 30$/m)
    assert.match(toml, /^auto_pin = false$/m)
  })

  test('a bad value is refused with an error naming the key, on its field; nothing is written', async () => {
    const before = await readFile(join(h.home, 'citrate.toml'), 'utf8')
    const field = page.getByLabel('max_model_size_gb')
    await field.fill('banana')
    await page.getByRole('button', { name: 'Save' }).click()
    await page.getByTestId('settings-invalid').waitFor({ timeout: 10_000 })
    assert.match(await page.getByTestId('settings-invalid').innerText(), /ipfs\.max_model_size_gb = "banana" is invalid: expected a number greater than 0/)
    assert.equal(await field.getAttribute('aria-invalid'), 'true')
    assert.match(await page.getByTestId('setting-max_model_size_gb').innerText(), /max_model_size_gb = "banana" is invalid/)
    assert.equal(await readFile(join(h.home, 'citrate.toml'), 'utf8'), before)
    await screenshot(page, '41-settings-invalid')

    // A restart-only key: saved, with the restart said plainly.
    await field.fill('30')
    await page.getByLabel('gateway_port').fill(String(h.gatewayPort + 1))
    await page.getByRole('button', { name: 'Save' }).click()
    await page.getByTestId('settings-saved').filter({ hasText: /Stop and start IPFS on the Setup page for gateway_port to take effect/ }).waitFor({ timeout: 10_000 })
  })
})
