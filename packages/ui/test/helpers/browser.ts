/** How every UI test starts Chromium: Debian's build, headless, nothing reaching beyond loopback. */
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
