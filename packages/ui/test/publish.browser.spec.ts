/**
 * Publish from the UI in a real Chromium against a real `serve` and kubo: a
 * folder on this machine by its path → the CID `ipfs add -r` gives, pinned,
 * with copy and share links; a path that does not exist is refused naming it.
 * Screenshots in test-results/screenshots/.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { type RunningService } from '../../service/src/index.ts'
import { assertNoHorizontalOverflow, screenshot } from './helpers/browser.ts'
import { ipfs, type TestHome } from '../../core/test/helpers/kubo.ts'
import { closeUiWorld, openUiWorld, type UiWorld } from './helpers/world.ts'
import { chachaBytes } from '../../core/test/helpers/content.ts'

let w: UiWorld
let h: TestHome
let svc: RunningService
let page: Page
let scratch: string

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'citrate-ui-publish-'))
  w = await openUiWorld({ clipboard: true })
  ;({ h, svc, page } = w)
})
after(async () => {
  await closeUiWorld(w)
  await rm(scratch, { recursive: true, force: true })
})

describe('publish UI (Chromium)', () => {
  test('a folder by its path becomes the CID `ipfs add -r` gives, pinned, with copy and share links', async () => {
    const folder = join(scratch, 'tiny-model')
    await mkdir(folder)
    await writeFile(join(folder, 'config.json'), JSON.stringify({ model_type: 'llama' }))
    await writeFile(join(folder, 'model.safetensors'), chachaBytes('ui-publish', 1_300_000))
    const expected = (await ipfs(join(h.home, 'ipfs'), ['add', '-Q', '-r', '--only-hash', folder])).toString().trim()

    await page.goto(`${svc.url}/#/publish`)
    await page.getByLabel('Full path on this computer').fill(folder)
    await page.getByLabel('Pin name (optional)').fill('tiny-model')
    await page.getByRole('button', { name: 'Publish', exact: true }).click()
    const result = page.getByTestId('publish-result')
    await result.waitFor({ timeout: 60_000 })
    assert.equal(await page.getByTestId('published-cid').locator('.truncate').getAttribute('title'), expected)
    assert.equal(await page.getByTestId('published-ipfs').locator('.truncate').getAttribute('title'), `ipfs://${expected}`)
    assert.match(await page.getByTestId('published-gateway').locator('.truncate').getAttribute('title') ?? '', new RegExp(`/ipfs/${expected}$`))
    assert.match(await result.innerText(), /Folder · 1\.3 MB · \d+ blocks · pinned/)
    const pins = (await ipfs(join(h.home, 'ipfs'), ['pin', 'ls', '--type=recursive', '--names'])).toString()
    assert.match(pins, new RegExp(`${expected} recursive tiny-model`))
    await page.getByTestId('published-cid').getByRole('button', { name: 'Copy published CID' }).click()
    assert.equal(await page.evaluate<string>('navigator.clipboard.readText()'), expected)
    await screenshot(page, '60-publish-1280')
    await page.setViewportSize({ width: 390, height: 900 })
    await assertNoHorizontalOverflow(page, 'publish at 390 px')
    await screenshot(page, '61-publish-390')
    await page.setViewportSize({ width: 1280, height: 900 })
  })

  test('a path that does not exist is refused, naming it', async () => {
    const missing = join(scratch, 'no-such-folder')
    await page.getByLabel('Full path on this computer').fill(missing)
    await page.getByRole('button', { name: 'Publish', exact: true }).click()
    const message = page.getByRole('alert').getByTestId('error-message')
    await message.waitFor({ timeout: 10_000 })
    assert.equal(await message.innerText(), `path: ${missing}: no such file or folder`)
    await page.getByLabel('Full path on this computer').fill('relative/path')
    await page.getByRole('button', { name: 'Publish', exact: true }).click()
    await page.getByRole('alert').getByTestId('error-message').filter({ hasText: /is not an absolute path/ }).waitFor({ timeout: 10_000 })
  })
})
