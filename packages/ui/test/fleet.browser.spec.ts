/**
 * The Fleet page in a real Chromium against a real `serve` and a real 2-peer
 * IPFS Cluster (each peer with its own kubo): no cluster set up is an
 * explanation with the command to connect one, not an error; with
 * [ipfs.cluster] set, both peers are listed; a CID added to peer 0's kubo and
 * pinned with replication min 2 shows per-peer progress, then pinned on both
 * peers (in the page and in the cluster's own REST API); unpin asks first;
 * the cluster's Pinning Service API as a remote service (its token never
 * shown): pin remotely → pinned, then removed; a pin short of its replicas
 * when its time is up is explained, not shown as an error. Screenshots at 1280 and 390 px
 * in test-results/screenshots/, and nothing wider than the viewport at 390 px.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFile, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser, Locator, Page } from 'playwright-core'
import { writeSecretFile } from '@citrate-ipfs/core'
import { startService, type RunningService } from '../../service/src/index.ts'
import { assertNoHorizontalOverflow, launchChromium, screenshot, signIn, until, UI_DIR as uiDir } from './helpers/browser.ts'
import { ipfs, makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'
import { startTestCluster, type ClusterPeer, type TestCluster } from '../../core/test/helpers/cluster.ts'
import { chachaBytes } from '../../core/test/helpers/content.ts'

const TOKEN = 'ui-fleet-token-5521'
let cluster: TestCluster
let peers: [ClusterPeer, ClusterPeer]
let h: TestHome
let svc: RunningService
let browser: Browser
let page: Page
let cid: string

before(async () => {
  cluster = await startTestCluster(2)
  const [a, b] = cluster.peers
  assert.ok(a != null && b != null)
  peers = [a, b]
  h = await makeTestHome()
  svc = await startService({ home: h.home, port: 0, uiDir, env: h.env })
  browser = await launchChromium()
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: svc.url })
  page = await context.newPage()
  await signIn(page, svc)
})
after(async () => {
  await browser?.close()
  await svc?.close()
  await h?.cleanup()
  await cluster?.stop()
})

/** The cluster's own view of a CID: each peer's status word, by peer id (404: the cluster has no such pin). */
async function restStatus (p: ClusterPeer, c: string): Promise<Record<string, string> | undefined> {
  const res = await fetch(`${p.restUrl}/pins/${c}`)
  if (res.status === 404) return undefined
  const body = await res.json() as { peer_map?: Record<string, { status: string }> }
  return Object.fromEntries(Object.entries(body.peer_map ?? {}).map(([id, s]) => [id, s.status]))
}

/** The cluster forgets an unpinned CID in its own time: reload the page until `shown` (an empty list's text) appears. */
async function untilShownAfterReload (shown: Locator, what: string): Promise<void> {
  await until(what, async () => {
    if (await shown.count() === 1) return true
    await page.reload()
    await shown.waitFor({ timeout: 5000 }).catch(() => {})
    return await shown.count() === 1 ? true : undefined
  })
}

describe('fleet UI (Chromium, real 2-peer IPFS Cluster)', () => {
  test('no cluster set up: a plain explanation and the command to connect one, no error', async () => {
    await page.goto(`${svc.url}/#/fleet`)
    const explanation = page.getByTestId('cluster-not-configured')
    await explanation.waitFor({ timeout: 15_000 })
    assert.match(await explanation.innerText(), /No cluster is connected yet/)
    assert.equal(await page.getByTestId('cluster-connect-command').locator('code').innerText(), 'citrate-ipfs cluster connect <rest-api-url>')
    await page.getByTestId('cluster-connect-command').getByRole('button', { name: 'Copy command that connects a cluster' }).click()
    assert.equal(await page.evaluate<string>('navigator.clipboard.readText()'), 'citrate-ipfs cluster connect <rest-api-url>')
    await page.getByTestId('no-remote-services').waitFor()
    assert.match(await page.getByTestId('remote-add-command').innerText(), /^citrate-ipfs remote service add <name> <endpoint>/)
    assert.equal(await page.getByRole('alert').count(), 0, 'no error panel for a cluster that is simply not set up')
    assert.equal(await page.getByRole('link', { name: 'Fleet' }).getAttribute('aria-current'), 'page')
    await page.setViewportSize({ width: 390, height: 900 })
    await assertNoHorizontalOverflow(page, 'fleet without a cluster at 390 px')
    await screenshot(page, '70-fleet-no-cluster-390')
    await page.setViewportSize({ width: 1280, height: 900 })
  })

  test('with [ipfs.cluster] set: both peers, with their ids, kubo ids and free space', async () => {
    const [a, b] = peers
    // The tables go after [ipfs], as `cluster connect` and `remote service add` write them.
    await appendFile(join(h.home, 'citrate.toml'), [
      '[ipfs.cluster]', `url = "${a.restUrl}"`, 'pin_timeout_seconds = 120',
      '[ipfs.remote.fleet]', `endpoint = "${b.pinsvcUrl}"`, 'pin_timeout_seconds = 120', ''
    ].join('\n'))
    await writeSecretFile(join(h.home, 'secrets', 'remote-fleet.json'), { token: TOKEN })
    await page.reload()
    for (const [i, p] of peers.entries()) {
      const row = page.getByTestId(`peer-peer-${i}`)
      await row.waitFor({ timeout: 15_000 })
      assert.ok(await row.locator(`.truncate[title="${p.id}"]`).count() === 1, `peer ${i}'s cluster id is shown (truncated, full value as its title)`)
      const kuboId = (await ipfs(p.kuboRepo, ['id', '-f', '<id>'])).toString().trim()
      assert.ok(await row.locator(`.truncate[title="${kuboId}"]`).count() === 1, `peer ${i}'s kubo id is shown`)
      assert.match(await row.getByTestId('peer-free-space').innerText(), /^[\d.]+ [KMGT]?B free$/)
    }
    assert.match(await page.getByTestId('cluster-summary').innerText(), /2 peers/)
    assert.equal(await page.getByTestId('cluster-not-configured').count(), 0)
    const service = page.getByTestId('remote-service-fleet')
    await service.waitFor()
    assert.match(await service.innerText(), new RegExp(b.pinsvcUrl.replace(/[.]/g, '\\.')))
    assert.equal(await service.getByTestId('remote-token').innerText(), 'token stored')
  })

  test('pin with replication min 2: per-peer progress, then pinned on both peers (page and cluster REST)', async () => {
    const [a, b] = peers
    cid = (await ipfs(a.kuboRepo, ['add', '-Q', '--pin=false'], chachaBytes('ui-fleet', 1_500_000))).toString().trim()
    // Every state the progress area passes through, recorded in the page as it changes.
    await page.evaluate(`(() => {
      window.__progress = []
      new MutationObserver(() => {
        const el = document.querySelector('[data-testid="cluster-pin-progress"]')
        if (el != null) window.__progress.push({ text: el.innerText, done: document.querySelector('[data-testid="cluster-pin-done"]') != null })
      }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true })
    })()`)
    await page.locator('#cluster-cid').fill(cid)
    await page.getByLabel('Name (optional)').fill('ui-fleet')
    await page.getByLabel('Replicas at least').fill('2')
    await page.getByLabel('Replicas at most').fill('2')
    await page.getByRole('button', { name: 'Pin in the cluster' }).click()
    const done = page.getByTestId('cluster-pin-done')
    await done.waitFor({ timeout: 150_000 })
    assert.equal(await done.innerText(), 'Pinned on 2 of the 2 peers required.')
    const seen = await page.evaluate<Array<{ text: string, done: boolean }>>('window.__progress')
    assert.ok(seen.some(s => !s.done && /\d of 2 required replicas pinned/.test(s.text)), `live progress was shown before the pin ended: ${JSON.stringify(seen)}`)
    assert.ok(seen.some(s => !s.done && /peer-[01]/.test(s.text)), `a peer's state was shown before the pin ended: ${JSON.stringify(seen)}`)
    const progress = page.getByTestId('cluster-pin-progress')
    for (const i of [0, 1]) assert.equal(await progress.getByTestId(`progress-peer-${i}`).locator('.badge').innerText(), 'Pinned')

    const row = page.getByTestId(`cluster-pin-${cid}`)
    await row.waitFor()
    assert.match(await row.innerText(), /ui-fleet/)
    for (const i of [0, 1]) assert.equal(await row.getByTestId(`state-peer-${i}`).locator('.badge').innerText(), 'Pinned')
    assert.deepEqual(await restStatus(a, cid), { [a.id]: 'pinned', [b.id]: 'pinned' })

    await screenshot(page, '71-fleet-1280')
    await page.setViewportSize({ width: 390, height: 900 })
    await assertNoHorizontalOverflow(page, 'fleet at 390 px')
    await screenshot(page, '72-fleet-390')
    await page.setViewportSize({ width: 1280, height: 900 })
  })

  test('unpin asks first, then the cluster no longer pins it', async () => {
    const [a] = peers
    const row = page.getByTestId(`cluster-pin-${cid}`)
    await row.getByRole('button', { name: 'Unpin ui-fleet from the cluster' }).click()
    const confirm = page.getByTestId('cluster-unpin-confirm')
    await confirm.waitFor()
    assert.match(await confirm.innerText(), /Unpin ui-fleet from the whole cluster\?/)
    await confirm.getByRole('button', { name: 'Keep it' }).click()
    assert.equal(await confirm.count(), 0)
    assert.notEqual(await restStatus(a, cid), undefined, 'keeping it changed nothing')
    await row.getByRole('button', { name: 'Unpin ui-fleet from the cluster' }).click()
    await page.getByTestId('cluster-unpin-confirm').getByRole('button', { name: 'Unpin from the cluster' }).click()
    await page.getByTestId('cluster-unpin-done').waitFor()
    assert.equal(await page.getByTestId('cluster-unpin-done').innerText(), 'Unpinned ui-fleet from the cluster.')
    assert.equal(await page.getByRole('alert').count(), 0)
    await untilShownAfterReload(page.getByTestId('no-cluster-pins'), 'the unpinned CID to leave the cluster\'s list')
    assert.equal(await row.count(), 0)
    await until('the cluster to drop the pin', async () => {
      const st = await restStatus(a, cid)
      return st == null || Object.values(st).every(s => s === 'unpinned') ? true : undefined
    })
  })

  test('pin remotely at the cluster\'s Pinning Service API: status to pinned, listed, removed; no token on the page', async () => {
    await page.locator('#remote-cid').fill(cid)
    await page.getByRole('button', { name: 'Pin remotely' }).click()
    const done = page.getByTestId('remote-pin-done')
    await done.waitFor({ timeout: 150_000 })
    assert.equal(await done.innerText(), 'Pinned at fleet.')
    const row = page.getByTestId(`remote-pin-${cid}`)
    await row.waitFor()
    assert.equal(await row.locator('.badge').innerText(), 'Pinned')
    assert.ok(!(await page.content()).includes(TOKEN), 'the page never holds the service token')
    await row.getByRole('button', { name: `Remove ${cid} from fleet` }).click()
    await page.getByRole('button', { name: 'Remove from fleet' }).click()
    await page.getByRole('button', { name: 'Remove from fleet' }).waitFor({ state: 'detached' })
    assert.equal(await page.getByRole('alert').count(), 0)
    await untilShownAfterReload(page.getByTestId('no-remote-pins'), 'the removed CID to leave the remote pins')
    assert.equal(await row.count(), 0)
  })

  test('a pin short of its replicas when the time is up is explained in plain words, not as a failure', async () => {
    const [a] = peers
    // Content no peer has (only hashed, never added), in a cluster closed to the world: it can never reach 2 replicas.
    const missing = (await ipfs(a.kuboRepo, ['add', '-Q', '--only-hash'], chachaBytes('ui-fleet-nowhere', 10_000))).toString().trim()
    const file = join(h.home, 'citrate.toml')
    await writeFile(file, (await readFile(file, 'utf8')).replace('pin_timeout_seconds = 120', 'pin_timeout_seconds = 2'))
    await page.locator('#cluster-cid').fill(missing)
    await page.getByLabel('Replicas at least').fill('2')
    await page.getByLabel('Replicas at most').fill('2')
    await page.getByRole('button', { name: 'Pin in the cluster' }).click()
    const incomplete = page.getByTestId('cluster-pin-incomplete')
    await incomplete.waitFor({ timeout: 60_000 })
    assert.match(await incomplete.innerText(), /Not enough peers have a copy yet\.[\s\S]*keeps trying in the background/)
    assert.equal(await page.getByTestId('cluster-pin-done').count(), 0)
    assert.equal(await page.getByRole('alert').count(), 0, 'not shown as an error')
    await screenshot(page, '73-fleet-replication-incomplete')
    await page.getByRole('button', { name: 'Pin in the cluster' }).waitFor()
    assert.equal(await page.getByRole('button', { name: 'Pin in the cluster' }).isEnabled(), true)
    await fetch(`${a.restUrl}/pins/${missing}`, { method: 'DELETE' })
  })
})
