/** How every UI test starts Chromium: Debian's build, headless, nothing reaching beyond loopback. */
import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Locator, type Page } from 'playwright-core'

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

/** Calls a service command the way a script does (bearer token), for a test's own setup and checks. */
export async function invoke<T = unknown> (svc: { url: string, token: string }, command: string, args: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(`${svc.url}/api/commands/${command}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${svc.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(args)
  })
  const body = await res.json() as T
  if (!res.ok) throw new Error(`${command}: HTTP ${res.status} ${JSON.stringify(body)}`)
  return body
}

/** Waits until `check` returns a value other than undefined (polling the service, not sleeping a fixed time). */
export async function until<T> (what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(r => setTimeout(r, 200))
  }
}

/** The layout checks every screen must pass at every width: nothing wider than the viewport. */
export async function assertNoHorizontalOverflow (page: Page, where: string): Promise<void> {
  const { scrollWidth, innerWidth } = await page.evaluate<{ scrollWidth: number, innerWidth: number }>('({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth })')
  assert.ok(scrollWidth <= innerWidth, `${where}: the page is ${scrollWidth} px wide in a ${innerWidth} px viewport`)
}

/** The element is wholly inside the viewport's width (not cut off at the right or left). */
export async function assertInViewport (page: Page, locator: Locator, what: string): Promise<void> {
  const box = await locator.boundingBox()
  assert.ok(box != null, `${what} is rendered`)
  const width = await page.evaluate<number>('window.innerWidth')
  assert.ok(box.x >= 0 && box.x + box.width <= width, `${what} spans ${box.x.toFixed(0)}–${(box.x + box.width).toFixed(0)} px in a ${width} px viewport`)
}

