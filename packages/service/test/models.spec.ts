/**
 * The service's download, registry, verify and pin commands against a real
 * kubo: download by CID with streamed progress, pause/resume, cancel, verify
 * at rest, pins and removal.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, open, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Ajv } from 'ajv'
import { COMMAND_SCHEMAS, ServiceEvent as ServiceEventSchema } from '@citrate-ipfs/contract'
import { createClient, CommandError, type CitrateClient, type DownloadView, type ServiceEvent } from '@citrate-ipfs/client'
import { startService, type RunningService } from '../src/index.ts'
import { addBytes, ipfs, makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'
import { chachaBytes } from '../../core/test/helpers/content.ts'
import { startThrottleProxy, type ThrottleProxy } from '../../core/test/helpers/throttle-proxy.ts'

let h: TestHome
let svc: RunningService
let client: CitrateClient
let proxy: ThrottleProxy
let scratch: string
const events: ServiceEvent[] = []
const listening = new AbortController()

async function addToKubo (name: string, bytes: Buffer, pin = true): Promise<string> {
  return await addBytes(join(h.home, 'ipfs'), scratch, name, bytes, pin)
}

async function finished (id: string, ms = 60_000): Promise<DownloadView> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const d = (await client.invoke('ipfs_list_downloads')).downloads.find(x => x.id === id)
    if (d != null && (d.model != null || d.error != null)) return d
    await new Promise(r => setTimeout(r, 100))
  }
  throw new Error(`download ${id} did not finish within ${ms} ms`)
}

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'citrate-svc-models-'))
  h = await makeTestHome()
  const { status } = await h.manager.start()
  proxy = await startThrottleProxy(status.gatewayUrl, 4 * 1024 * 1024)
  svc = await startService({ home: h.home, port: 0, env: h.env })
  client = createClient({ baseUrl: svc.url, token: svc.token })
  void client.listen(e => events.push(e), { signal: listening.signal })
})
after(async () => {
  listening.abort()
  await svc.close()
  await proxy.close()
  await h.cleanup()
  await rm(scratch, { recursive: true, force: true })
})

describe('service: models, downloads and pins (real kubo)', () => {
  test('download by CID streams DownloadProgress events and ends verified in the registry, pinned', async () => {
    const content = chachaBytes('svc-model', 3 * 262144 + 17)
    const cid = await addToKubo('tiny.gguf', content)
    const started = await client.invoke('ipfs_download_model', { cid, name: 'tiny-model', filename: 'tiny.gguf' })
    assert.equal(started.id, 'tiny-model')
    const done = await finished('tiny-model')
    assert.equal(done.error, undefined, JSON.stringify(done.error))
    assert.equal(done.model?.verified, true)
    assert.equal(done.model?.cid, cid)
    assert.deepEqual(await readFile(done.model?.path ?? ''), content)
    const progress = events.filter(e => e.event === 'download-progress' && e.data.id === 'tiny-model').map(e => (e.data as DownloadView).progress)
    assert.ok(progress.length > 0)
    assert.equal(progress.at(-1)?.status, 'Complete')
    for (const p of progress) for (const k of ['cid', 'total_bytes', 'downloaded_bytes', 'progress_percent', 'speed_mbps', 'eta_seconds', 'status']) assert.ok(k in p, k)

    const { models, total_disk_bytes: total } = await client.invoke('ipfs_list_models')
    assert.deepEqual(models.map(m => [m.id, m.verified]), [['tiny-model', true]])
    // The content plus its .citrate/ bookkeeping (metadata, config, a DAG index of one root node).
    assert.ok(total != null && total > (models[0]?.size_bytes ?? 0) && total < (models[0]?.size_bytes ?? 0) + 64 * 1024, `total_disk_bytes ${String(total)}`)
    const { pins } = await client.invoke('ipfs_get_pins')
    const pin = pins.find(p => p.cid === cid)
    assert.ok(pin != null, 'the model is pinned in kubo')
    assert.deepEqual(pin.models, ['tiny-model'])
  })

  test('verify catches a flipped byte, names its offset, and marks the model unverified', async () => {
    assert.deepEqual(await client.invoke('ipfs_verify_model', { id: 'tiny-model' }), { id: 'tiny-model', ok: true, bytes: 3 * 262144 + 17, method: 'dag-index' })
    const path = (await client.invoke('ipfs_list_models')).models[0]?.path ?? ''
    const fh = await open(path, 'r+')
    const at = 262144 + 1000
    const b = Buffer.alloc(1)
    await fh.read(b, 0, 1, at)
    b[0] = (b[0] ?? 0) ^ 0x01
    await fh.write(b, 0, 1, at)
    await fh.close()
    const r = await client.invoke('ipfs_verify_model', { id: 'tiny-model' })
    assert.equal(r.ok, false)
    assert.equal(r.error?.code, 'CONTENT_CORRUPT')
    assert.equal(r.error?.offset, 262144, 'the first byte of the damaged block')
    assert.equal((await client.invoke('ipfs_list_models')).models[0]?.verified, false)
    b[0] = (b[0] ?? 0) ^ 0x01
    const fix = await open(path, 'r+')
    await fix.write(b, 0, 1, at)
    await fix.close()
    assert.equal((await client.invoke('ipfs_verify_model', { id: 'tiny-model' })).ok, true)
    assert.equal((await client.invoke('ipfs_list_models')).models[0]?.verified, true)
  })

  test('pin with progress events; unpin refuses a model\'s content without force', async () => {
    const cid = await addToKubo('loose.bin', chachaBytes('svc-pin', 600_000), false)
    const r = await client.invoke('ipfs_pin', { cid, name: 'loose' })
    assert.equal(r.cid, cid)
    assert.equal(r.alreadyPinned, false)
    await new Promise(res => setTimeout(res, 100))
    assert.ok(events.some(e => e.event === 'pin-progress' && e.data.cid === cid && e.data.done))
    assert.ok((await client.invoke('ipfs_get_pins')).pins.some(p => p.cid === cid && p.name === 'loose'))
    await client.invoke('ipfs_unpin', { cid })
    assert.ok(!(await client.invoke('ipfs_get_pins')).pins.some(p => p.cid === cid))

    const modelCid = (await client.invoke('ipfs_list_models')).models[0]?.cid ?? ''
    await assert.rejects(client.invoke('ipfs_unpin', { cid: modelCid }), (err: Error) => err instanceof CommandError && err.code === 'PIN_IN_USE' && err.status === 409 && /tiny-model/.test(err.message))
    assert.deepEqual(await client.invoke('ipfs_unpin', { cid: modelCid, force: true }), { cid: modelCid, models: ['tiny-model'] })
  })

  test('pause holds a download, resume finishes it; cancel leaves no entry and no folder', async () => {
    await writeFile(join(h.home, 'citrate.toml'), (await readFile(join(h.home, 'citrate.toml'), 'utf8')) + `external_gateway = "${proxy.url}"\n`)
    const big = chachaBytes('svc-slow', 6 * 1024 * 1024)
    const cid = await addToKubo('slow.bin', big)
    await client.invoke('ipfs_download_model', { cid, name: 'slow', source: 'gateway' })
    await waitFor(async () => ((await client.invoke('ipfs_list_downloads')).downloads.find(d => d.id === 'slow')?.progress.downloaded_bytes ?? 0) > 0, 20_000)
    const paused = await client.invoke('ipfs_pause_download', { id: 'slow' })
    assert.equal(paused.progress.status, 'Paused')
    await client.invoke('ipfs_resume_download', { id: 'slow' })
    const done = await finished('slow')
    assert.equal(done.model?.verified, true)
    assert.deepEqual(await readFile(done.model?.path ?? ''), big)
    assert.equal(done.progress.source?.includes(proxy.url.replace('http://', '')) ?? false, true, `came through the gateway (${done.progress.source ?? ''})`)

    const cid2 = await addToKubo('cancel.bin', chachaBytes('svc-cancel', 6 * 1024 * 1024))
    await client.invoke('ipfs_download_model', { cid: cid2, name: 'to-cancel', source: 'gateway' })
    await waitFor(async () => ((await client.invoke('ipfs_list_downloads')).downloads.find(d => d.id === 'to-cancel')?.progress.downloaded_bytes ?? 0) > 0, 20_000)
    await client.invoke('ipfs_cancel_download', { id: 'to-cancel' })
    const cancelled = await finished('to-cancel')
    assert.equal(cancelled.error?.code, 'ABORTED')
    assert.ok(!(await client.invoke('ipfs_list_models')).models.some(m => m.id === 'to-cancel'))
    assert.ok(!(await readdir(join(h.home, 'models'))).includes('to-cancel'))
  })

  test('cancel is reported as cancelled; retry starts a download again as it was asked; dismiss forgets an ended one and refuses a running one', async () => {
    assert.equal((await client.invoke('ipfs_list_downloads')).downloads.find(d => d.id === 'to-cancel')?.cancelled, true)
    // Slow enough that it is still running when dismissed.
    await client.invoke('ipfs_set_download_limit', { mbps: 0.5 })
    const again = await client.invoke('ipfs_retry_download', { id: 'to-cancel' })
    assert.equal(again.error, undefined)
    assert.equal(again.cancelled, undefined)
    await assert.rejects(client.invoke('ipfs_dismiss_download', { id: 'to-cancel' }), (err: Error) => err instanceof CommandError && err.status === 400 && /still running/.test(err.message))
    await client.invoke('ipfs_set_download_limit', { mbps: 0 })
    const done = await finished('to-cancel')
    assert.equal(done.model?.verified, true, 'the retry used the same source and name')
    await assert.rejects(client.invoke('ipfs_retry_download', { id: 'to-cancel' }), (err: Error) => err instanceof CommandError && err.status === 400 && /complete/.test(err.message))
    assert.deepEqual(await client.invoke('ipfs_dismiss_download', { id: 'to-cancel' }), { id: 'to-cancel', dismissed: true })
    assert.ok(!(await client.invoke('ipfs_list_downloads')).downloads.some(d => d.id === 'to-cancel'), 'a dismissed download is no longer listed')
    await assert.rejects(client.invoke('ipfs_dismiss_download', { id: 'to-cancel' }), (err: Error) => err instanceof CommandError && err.code === 'NOT_FOUND')

    // Content no source has fails (and stays listed, with its error, until dismissed); its retry fails the same way.
    const missing = (await ipfs(join(h.home, 'ipfs'), ['add', '-Q', '--only-hash', '--pin=false'], chachaBytes('svc-missing', 5000))).toString().trim()
    await client.invoke('ipfs_download_model', { cid: missing, name: 'nobody-has', source: 'gateway' })
    const failed = await finished('nobody-has')
    assert.ok(failed.error != null && failed.cancelled !== true, JSON.stringify(failed))
    await client.invoke('ipfs_retry_download', { id: 'nobody-has' })
    assert.equal((await finished('nobody-has')).error?.code, failed.error.code)
  })

  test('ipfs_set_download_limit: a bad argument is a 400; a good one changes a running download\'s speed at once', async () => {
    for (const bad of [{ mbps: -1 }, { mbps: 'fast' }, {}]) {
      await assert.rejects(client.invoke('ipfs_set_download_limit', bad as never), (err: Error) => err instanceof CommandError && err.status === 400, JSON.stringify(bad))
    }
    const cid = await addToKubo('limited.bin', chachaBytes('svc-limit', 8 * 1024 * 1024))
    await client.invoke('ipfs_download_model', { cid, name: 'limited', source: 'gateway' })
    const bytes = async (): Promise<number> => (await client.invoke('ipfs_list_downloads')).downloads.find(d => d.id === 'limited')?.progress.downloaded_bytes ?? 0
    await waitFor(async () => await bytes() > 0, 20_000)
    assert.deepEqual(await client.invoke('ipfs_set_download_limit', { mbps: 0.5 }), { mbps: 0.5 })
    // Through the 4 MiB/s proxy it would take 2 s in all; at 0.5 MB/s (after what is buffered drains) about 1 MB in 2 s.
    await new Promise(resolve => setTimeout(resolve, 1000))
    const b1 = await bytes()
    await new Promise(resolve => setTimeout(resolve, 2000))
    const rate = (await bytes() - b1) / 2
    assert.ok(rate < 1.2e6, `capped while running: ${(rate / 1e6).toFixed(2)} MB/s`)
    const view = (await client.invoke('ipfs_list_downloads')).downloads.find(d => d.id === 'limited')
    assert.ok(view?.progress.sources?.some(s => s.bytes > 0), `per-source progress in the service's view: ${JSON.stringify(view?.progress.sources)}`)
    await client.invoke('ipfs_set_download_limit', { mbps: 0 })
    assert.equal((await finished('limited')).model?.verified, true)
  })

  test('remove unpins, drops the entry and deletes the folder; bad input is a clear 4xx', async () => {
    const r = await client.invoke('ipfs_remove_model', { id: 'slow' })
    assert.equal(r.removed.id, 'slow')
    assert.equal(r.unpinned, true)
    assert.ok(!(await readdir(join(h.home, 'models'))).includes('slow'))
    await assert.rejects(client.invoke('ipfs_remove_model', { id: 'slow' }), (err: Error) => err instanceof CommandError && err.code === 'MODEL_NOT_FOUND' && err.status === 404)
    await assert.rejects(client.invoke('ipfs_download_model', { cid: 'not-a-cid' }), (err: Error) => err instanceof CommandError && err.status === 400)
    await assert.rejects(client.invoke('ipfs_pause_download', { id: 'nope' }), (err: Error) => err instanceof CommandError && err.code === 'NOT_FOUND')
  })

  test('every event streamed and every result read matches the wire contract', async () => {
    const ajv = new Ajv({ strict: false })
    const kinds = new Set(events.map(e => e.event))
    for (const k of ['download-progress', 'pin-progress'] as const) assert.ok(kinds.has(k), `saw ${k} events`)
    for (const e of events) assert.ok(ajv.validate(ServiceEventSchema, e), `${e.event} ${JSON.stringify(e.data).slice(0, 200)}: ${ajv.errorsText()}`)
    // Downloads that completed, failed (cancelled) and were removed: DownloadView with and without model and error.
    const downloads = await client.invoke('ipfs_list_downloads')
    assert.ok(downloads.downloads.some(d => d.model != null) && downloads.downloads.some(d => d.error != null))
    assert.ok(ajv.validate(COMMAND_SCHEMAS.ipfs_list_downloads.result, downloads), ajv.errorsText())
    assert.ok(ajv.validate(COMMAND_SCHEMAS.ipfs_list_models.result, await client.invoke('ipfs_list_models')), ajv.errorsText())
    assert.ok(ajv.validate(COMMAND_SCHEMAS.ipfs_get_pins.result, await client.invoke('ipfs_get_pins')), ajv.errorsText())
    assert.ok(ajv.validate(COMMAND_SCHEMAS.ipfs_verify_model.result, await client.invoke('ipfs_verify_model', { id: 'tiny-model' })), ajv.errorsText())
  })

  test('download by content path: ipfs://<folder>/<file> fetches that file under its own name; <cid>/../x is a 400', async () => {
    const dir = join(scratch, 'svc-folder')
    await mkdir(join(dir, 'quants'), { recursive: true })
    const file = chachaBytes('svc-path', 40_000)
    await writeFile(join(dir, 'quants', 'svc-Q4_K_M.gguf'), file)
    await writeFile(join(dir, 'other.bin'), chachaBytes('svc-other', 500_000))
    const folder = (await ipfs(join(h.home, 'ipfs'), ['add', '-r', '-Q', '--pin=false', '--cid-version=1', dir])).toString().trim()
    const started = await client.invoke('ipfs_download_model', { cid: `ipfs://${folder}/quants/svc-Q4_K_M.gguf` })
    assert.equal(started.id, 'svc-Q4_K_M')
    const done = await finished('svc-Q4_K_M')
    assert.equal(done.error, undefined, JSON.stringify(done.error))
    assert.equal(done.model?.id, 'svc-Q4_K_M')
    assert.equal(done.model?.path.endsWith(join('svc-Q4_K_M', 'svc-Q4_K_M.gguf')), true, done.model?.path)
    assert.deepEqual(await readFile(done.model?.path ?? ''), file)
    // A folder with a symlink pointing outside it: the download completes and names the link it did not write.
    await symlink('/etc/hostname', join(dir, 'quants', 'outside'))
    const withLink = (await ipfs(join(h.home, 'ipfs'), ['add', '-r', '-Q', '--pin=false', '--cid-version=1', dir])).toString().trim()
    await client.invoke('ipfs_download_model', { cid: `${withLink}/quants`, name: 'svc-links' })
    const linked = await finished('svc-links')
    assert.equal(linked.error, undefined, JSON.stringify(linked.error))
    assert.deepEqual(linked.skippedSymlinks?.map(l => [l.path, l.target]), [['outside', '/etc/hostname']])
    await assert.rejects(client.invoke('ipfs_download_model', { cid: `${folder}/../x` }),
      (err: Error) => err instanceof CommandError && err.code === 'INVALID_CID' && err.status === 400 && /"\.\." segments are not allowed/.test(err.message))
  })
})

async function waitFor (cond: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`)
    await new Promise(r => setTimeout(r, 50))
  }
}
