/**
 * The Models and Pins screens in a real Chromium against a real `serve` and
 * real kubo: download by CID with a live progress bar (through a slowed
 * gateway so it can be seen), pause and resume, Complete and listed as
 * verified; verify; pin and unpin; remove. Screenshots in test-results/screenshots/.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { startService, type RunningService } from '../../service/src/index.ts'
import { launchChromium, screenshot, signIn, UI_DIR as uiDir } from './helpers/browser.ts'
import { addBytes, ipfs, makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'
import { chachaBytes } from '../../core/test/helpers/content.ts'
import { startThrottleProxy, type ThrottleProxy } from '../../core/test/helpers/throttle-proxy.ts'


let h: TestHome
let svc: RunningService
let proxy: ThrottleProxy
let browser: Browser
let page: Page
let scratch: string

async function addToKubo (name: string, bytes: Buffer, pin: boolean): Promise<string> {
  return await addBytes(join(h.home, 'ipfs'), scratch, name, bytes, pin)
}
const shot = async (name: string): Promise<void> => { await screenshot(page, name) }

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'citrate-ui-models-'))
  h = await makeTestHome()
  const { status } = await h.manager.start()
  // Gateways first, through a slowed loopback gateway, so progress is visible.
  proxy = await startThrottleProxy(status.gatewayUrl, 3 * 1024 * 1024)
  // Every source of a pull works at once (the local daemon too), so the pull's own cap keeps it slow enough to watch.
  await writeFile(join(h.home, 'citrate.toml'), (await readFile(join(h.home, 'citrate.toml'), 'utf8')) + `external_gateway = "${proxy.url}"\nuse_external_by_default = true\nmax_download_mbps = 3\n`)
  svc = await startService({ home: h.home, port: 0, uiDir, env: h.env })
  browser = await launchChromium()
  page = await browser.newPage({ viewport: { width: 1100, height: 800 } })
  page.on('dialog', d => { void d.accept() })
  await signIn(page, svc)
})
after(async () => {
  await browser?.close()
  await svc?.close()
  await proxy?.close()
  await h?.cleanup()
  await rm(scratch, { recursive: true, force: true })
})

describe('models and pins UI (Chromium)', () => {
  let modelCid = ''
  const content = chachaBytes('ui-model', 8 * 1024 * 1024 + 123)

  test('download by CID: live progress, pause and resume, then Complete and listed as verified', async () => {
    modelCid = await addToKubo('qwen-tiny.gguf', content, false)
    await page.goto(`${svc.url}/#/models`)
    await page.getByTestId('no-models').waitFor({ timeout: 15_000 })
    await shot('10-models-empty')

    await page.getByRole('textbox', { name: 'CID', exact: true }).fill('QmNotAValidCid')
    await page.getByRole('button', { name: 'Download' }).click()
    await page.getByText('Enter a CID: Qm…').waitFor()

    await page.getByRole('textbox', { name: 'CID', exact: true }).fill(modelCid)
    await page.getByLabel('Name (optional)', { exact: true }).fill('qwen-tiny')
    await page.getByLabel('File name (optional)', { exact: true }).fill('weights-q4.bin')
    await page.getByRole('button', { name: 'Download' }).click()
    const row = page.getByTestId('download-qwen-tiny')
    await row.waitFor({ timeout: 15_000 })
    await row.getByTestId('download-stats').filter({ hasText: /^[1-9][\d.]* [KM]?B of 8\.4 MB · [\d.]+ MB\/s.* · from / }).waitFor({ timeout: 20_000 })
    const stats = await row.getByTestId('download-stats').innerText()
    assert.match(stats, /of 8\.4 MB · [\d.]+ MB\/s( · \d+ s left)? · from /)
    // Each source's part: its name, bytes and speed (or state).
    assert.match(await row.getByTestId('download-sources').innerText(), /\S+ [\d.]+ [KM]?B( [\d.]+ MB\/s| \(resting\)| \(dropped\))/)
    await shot('11-models-downloading')

    await row.getByRole('button', { name: 'Pause' }).click()
    await row.getByTestId('download-status').filter({ hasText: /^Paused$/ }).waitFor({ timeout: 10_000 })
    await shot('12-models-paused')
    await row.getByRole('button', { name: 'Resume' }).click()

    const entry = page.getByTestId('model-qwen-tiny')
    await entry.waitFor({ timeout: 60_000 })
    assert.equal(await entry.getByTestId('verified-state').innerText(), 'Verified')
    assert.match(await entry.innerText(), new RegExp(modelCid))
    await shot('13-models-verified')
    const registry = JSON.parse(await readFile(join(h.home, 'models', 'registry.json'), 'utf8')) as { models: Array<{ id: string, verified: boolean, path: string }> }
    const m = registry.models.find(x => x.id === 'qwen-tiny')
    assert.equal(m?.verified, true)
    assert.equal(basename(m?.path ?? ''), 'weights-q4.bin', 'saved under the file name typed in the form')
    // On disk the registry stores paths relative to CITRATE_HOME (models/<id>/model.bin).
    assert.deepEqual(await readFile(resolve(h.home, m?.path ?? '')), content)

    await entry.getByRole('button', { name: 'Verify' }).click()
    await entry.getByText('Checked just now').waitFor({ timeout: 30_000 })
  })

  test('pins: the model\'s pin is listed; pin a CID with progress, unpin it; unpinning a model\'s pin asks first', async () => {
    const loose = await addToKubo('dataset.bin', chachaBytes('ui-pin', 700_000), false)
    await page.goto(`${svc.url}/#/pins`)
    const modelPin = page.getByTestId(`pin-${modelCid}`)
    await modelPin.waitFor({ timeout: 15_000 })
    assert.match(await modelPin.innerText(), /backs qwen-tiny/)

    await page.getByRole('textbox', { name: 'CID', exact: true }).fill(loose)
    await page.getByRole('button', { name: 'Pin', exact: true }).click()
    await page.getByTestId('pin-done').waitFor({ timeout: 30_000 })
    assert.match(await page.getByTestId('pin-done').innerText(), new RegExp(`Pinned ${loose} \\(\\d+ blocks`))
    await page.getByTestId(`pin-${loose}`).waitFor()
    await shot('14-pins-listed')

    await page.getByTestId(`pin-${loose}`).getByRole('button', { name: 'Unpin' }).click()
    await page.getByTestId(`pin-${loose}`).waitFor({ state: 'detached', timeout: 15_000 })

    await modelPin.getByRole('button', { name: 'Unpin' }).click()
    await page.getByText('A model in your library relies on this pin.').waitFor()
    await shot('15-pins-unpin-in-use')
    await page.getByRole('button', { name: 'Keep the pin' }).click()
    await modelPin.waitFor()
  })

  test('remove deletes the model and its pin', async () => {
    await page.goto(`${svc.url}/#/models`)
    const entry = page.getByTestId('model-qwen-tiny')
    await entry.waitFor({ timeout: 15_000 })
    await entry.getByRole('button', { name: 'Remove' }).click()
    await page.getByTestId('no-models').waitFor({ timeout: 15_000 })
    await shot('16-models-removed')
    const pins = (await ipfs(join(h.home, 'ipfs'), ['pin', 'ls', '--type=recursive', '-q'])).toString()
    assert.ok(!pins.includes(modelCid), 'the model\'s pin is gone')
  })

  test('kind Asset downloads into assets/<id>/ and is listed', async () => {
    const logo = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')
    const cid = await addToKubo('logo.svg', logo, false)
    await page.goto(`${svc.url}/#/models`)
    await page.getByRole('textbox', { name: 'CID', exact: true }).fill(cid)
    await page.getByLabel('Name (optional)', { exact: true }).fill('citrate-logo')
    await page.getByLabel('Kind').selectOption('asset')
    await page.getByRole('button', { name: 'Download' }).click()
    await page.getByTestId('model-citrate-logo').waitFor({ timeout: 60_000 })
    const registry = JSON.parse(await readFile(join(h.home, 'models', 'registry.json'), 'utf8')) as { models: Array<{ id: string, kind: string, path: string }> }
    const m = registry.models.find(x => x.id === 'citrate-logo')
    assert.equal(m?.kind, 'asset')
    assert.match(m?.path ?? '', /^assets[/\\]citrate-logo[/\\]/)
    assert.deepEqual(await readFile(resolve(h.home, m?.path ?? '')), logo)
  })
})
