/**
 * One browser spec's world, started in its `before` and closed in its `after`: a test home (its kubo
 * started unless told otherwise), the real service on it serving the built UI, and Chromium signed in.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { startService, type RunningService } from '../../../service/src/index.ts'
import { makeTestHome, type TestHome } from '../../../core/test/helpers/kubo.ts'
import { launchChromium, signIn, UI_DIR } from './browser.ts'

export interface UiWorld {
  h: TestHome
  svc: RunningService
  browser: Browser
  context: BrowserContext
  page: Page
}

export interface UiWorldOptions {
  /** Start the home's kubo before the service (default true). */
  startDaemon?: boolean
  /** Let the page read and write the clipboard (copy buttons). */
  clipboard?: boolean
  viewport?: { width: number, height: number }
  /** Runs on the home before its kubo starts (e.g. going online on loopback). */
  prepareHome?: (h: TestHome) => Promise<void>
  /** Runs once the service is up, before Chromium starts (e.g. a download through the API). */
  prepareService?: (w: { h: TestHome, svc: RunningService }) => Promise<void>
  /** Runs on the new page before sign-in (listeners). */
  preparePage?: (page: Page) => void
}

export async function openUiWorld (opts: UiWorldOptions = {}): Promise<UiWorld> {
  const w: Partial<UiWorld> = {}
  try {
    const h = w.h = await makeTestHome()
    await opts.prepareHome?.(h)
    if (opts.startDaemon ?? true) await h.manager.start()
    const svc = w.svc = await startService({ home: h.home, port: 0, uiDir: UI_DIR, env: h.env })
    await opts.prepareService?.({ h, svc })
    const browser = w.browser = await launchChromium()
    const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1280, height: 900 } })
    if (opts.clipboard === true) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: svc.url })
    const page = await context.newPage()
    opts.preparePage?.(page)
    await signIn(page, svc)
    return { h, svc, browser, context, page }
  } catch (err) {
    await closeUiWorld(w).catch(() => {})
    throw err
  }
}

/** Closes what `openUiWorld` opened (safe on a world whose start failed half way). */
export async function closeUiWorld (w: Partial<UiWorld> | undefined): Promise<void> {
  await w?.browser?.close()
  await w?.svc?.close()
  await w?.h?.cleanup()
}
