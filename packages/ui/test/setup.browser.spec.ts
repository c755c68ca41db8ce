/**
 * The real UI in a real Chromium, against a real `serve` and a real kubo:
 * first run from "not installed" (installing from a local dist mirror) to
 * "running", and the external gateway form. Screenshots of each screen go to
 * test-results/screenshots/.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { startService, type RunningService } from '../../service/src/index.ts'
import { launchChromium, screenshot, signIn, UI_DIR as uiDir } from './helpers/browser.ts'
import { makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'
import { startDistMirror, type DistMirror } from '../../core/test/helpers/dist-mirror.ts'



let mirror: DistMirror
let h: TestHome
let svc: RunningService
let browser: Browser
let page: Page

before(async () => {
  mirror = await startDistMirror()
  mirror.throttle.bytesPerSecond = 40 * 1024 * 1024 // ~3 s for the archive: long enough to see progress
  h = await makeTestHome(`dist_url = "${mirror.url}"`, { daemonPath: 'ipfs-citrate-test-absent' })
  svc = await startService({ home: h.home, port: 0, uiDir, env: { ...h.env, PATH: '/nonexistent' } })
  browser = await launchChromium()
  page = await browser.newPage({ viewport: { width: 1100, height: 800 } })
})
after(async () => {
  await browser?.close()
  await svc?.close()
  await h?.cleanup()
  await mirror?.close()
})

const shot = async (name: string): Promise<void> => { await screenshot(page, name) }

describe('setup UI (Chromium)', () => {
  test('opened without signing in, the page says how to sign in; a used login link is refused', async () => {
    await page.goto(svc.url)
    const alert = page.getByRole('alert').first()
    await alert.waitFor({ timeout: 15_000 })
    assert.match(await alert.innerText(), /not signed in[\s\S]*sign-in link/)
    await shot('00-not-signed-in')

    const used = svc.newLoginUrl()
    await page.goto(used)
    await page.context().clearCookies()
    const again = await page.goto(used)
    assert.equal(again?.status(), 401)
    assert.match(await page.locator('body').innerText(), /expired or was already used[\s\S]*citrate-ipfs login/)
  })

  test('first run: not installed → install with progress → start → running with a peer id', async () => {
    await signIn(page, svc)
    await page.getByTestId('state-not-installed').waitFor({ timeout: 15_000 })
    assert.match(await page.getByRole('heading', { level: 2 }).first().innerText(), /IPFS is not installed/)
    await shot('01-setup-not-installed')

    await page.getByRole('button', { name: 'Install IPFS' }).click()
    await page.getByTestId('install-progress').waitFor({ timeout: 15_000 })
    const progressText = await page.getByTestId('install-progress').innerText()
    assert.match(progressText, /Downloading: [\d.]+ [KMG]?B of [\d.]+ MB/)
    await shot('02-setup-installing')

    await page.getByTestId('state-stopped').waitFor({ timeout: 60_000 })
    assert.match(await page.getByTestId('state-stopped').innerText(), /kubo \d+\.\d+\.\d+ is ready/)
    await shot('03-setup-installed')

    await page.getByRole('button', { name: 'Start IPFS' }).click()
    await page.getByTestId('state-running').waitFor({ timeout: 60_000 })
    const peerId = await page.getByTestId('peer-id').innerText()
    assert.match(peerId, /^12D3Koo/)
    assert.equal(await page.getByTestId('rpc-protected').innerText(), 'locked to Citrate')
    const status = await (await fetch(`${svc.url}/api/commands/ipfs_check_status`, { method: 'POST', headers: { authorization: `Bearer ${svc.token}` } })).json() as { peerId: string }
    assert.equal(peerId, status.peerId, 'the UI shows the running daemon\'s own peer id')
    await shot('04-setup-running')
  })

  test('the gateway form rejects a non-https URL and confirms a saved one', async () => {
    const input = page.getByLabel('Gateway URL')
    await input.fill('http://gateway.example.com')
    await page.getByRole('button', { name: 'Save' }).click()
    await page.getByText('The gateway must use https://').waitFor()
    assert.equal(await input.getAttribute('aria-invalid'), 'true')
    await shot('05-gateway-invalid')

    await input.fill('https://gateway.example.com/')
    await page.getByRole('button', { name: 'Save' }).click()
    await page.getByTestId('gateway-saved').waitFor()
    assert.match(await page.getByTestId('gateway-saved').innerText(), /Saved\. Downloads will use https:\/\/gateway\.example\.com/)
    assert.match(await readFile(join(h.home, 'citrate.toml'), 'utf8'), /external_gateway = "https:\/\/gateway\.example\.com"/)
    await shot('06-gateway-saved')
  })

  test('readable at a narrow width and usable by keyboard', async () => {
    await page.setViewportSize({ width: 360, height: 740 })
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth')
    assert.ok(overflow <= 0, `no horizontal scrolling at 360 px (overflow ${overflow} px)`)
    await shot('07-running-narrow')

    // Reach "Stop IPFS" with the keyboard alone and press it.
    let focused = ''
    for (let i = 0; i < 20 && focused !== 'Stop IPFS'; i++) {
      await page.keyboard.press('Tab')
      focused = await page.evaluate<string>("document.activeElement?.innerText ?? ''")
    }
    assert.equal(focused, 'Stop IPFS')
    await page.keyboard.press('Enter')
    await page.getByTestId('state-stopped').waitFor({ timeout: 30_000 })
    await shot('08-stopped-by-keyboard')
  })

  test('a failure shows a plain-language message and what to do next', async () => {
    await page.setViewportSize({ width: 1100, height: 800 })
    // Take the API port away, then try to start.
    const { createServer } = await import('node:net')
    const blocker = createServer(() => {})
    await new Promise<void>(r => blocker.listen(h.apiPort, '127.0.0.1', r))
    try {
      await page.getByRole('button', { name: 'Start IPFS' }).click()
      const alert = page.getByRole('alert')
      await alert.waitFor({ timeout: 30_000 })
      const text = await alert.innerText()
      assert.match(text, /Another program is using a port IPFS needs/)
      assert.match(text, /change api_port/)
      await shot('09-error-port-in-use')
    } finally {
      blocker.close()
    }
  })
})
