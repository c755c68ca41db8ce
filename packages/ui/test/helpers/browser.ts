/** How every UI test starts Chromium: Debian's build, headless, nothing reaching beyond loopback. */
import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-gpu']

export async function launchChromium (): Promise<Browser> {
  return await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true })
}

/** The built UI that `serve` hands out, and where screenshots of each screen are kept. */
export const UI_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist')
export const SCREENSHOTS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'test-results', 'screenshots')

export async function screenshot (page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS_DIR, { recursive: true })
  await page.screenshot({ path: join(SCREENSHOTS_DIR, `${name}.png`), fullPage: true })
}

/**
 * Signs the page in the way a person does: it opens the one-time login URL
 * `serve` prints, which sets the session cookie and redirects to the UI with
 * the code gone from the address bar. Checks the cookie is out of scripts' reach.
 */
export async function signIn (page: Page, svc: { url: string, token: string, newLoginUrl: () => string }): Promise<void> {
  const res = await page.goto(svc.newLoginUrl())
  assert.equal(res?.status(), 200)
  assert.equal(page.url(), `${svc.url}/`, 'the login redirect drops the code from the address bar')
  const cookies = await page.context().cookies(svc.url)
  assert.equal(cookies.length, 1)
  assert.equal(cookies[0]?.httpOnly, true)
  assert.equal(cookies[0]?.sameSite, 'Strict')
  assert.notEqual(cookies[0]?.value, svc.token)
  assert.equal(await page.evaluate<string>('document.cookie'), '', 'no script on the page can read the session')
  assert.ok(!(await page.content()).includes(svc.token), 'the page holds no token')
}
