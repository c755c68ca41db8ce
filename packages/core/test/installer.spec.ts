/**
 * The installer against a local dist mirror of the Go-built kubo: verified,
 * extracted safely, atomic — a bad download leaves nothing installed.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as tar from 'tar'
import { DaemonManager, InstallError, installKubo, kuboVersion, type InstallProgressEvent } from '../src/index.ts'
import { installerFixture } from './helpers/dist-mirror.ts'

const fx = installerFixture()
const { home, binContents } = fx

describe('kubo installer (local dist mirror)', () => {
  test('installs the pinned release: verified, extracted, runnable, then found by the manager', async () => {
    const h = await home()
    const events: InstallProgressEvent[] = []
    const r = await installKubo({ paths: h.config.paths, version: fx.mirror.version, distUrl: fx.mirror.url, onProgress: e => events.push(e) })
    assert.equal(r.path, join(h.home, 'bin', 'ipfs'))
    assert.equal(`v${await kuboVersion(r.path)}`, fx.mirror.version)
    assert.deepEqual(await binContents(h), ['ipfs'])
    const types = events.map(e => e.type)
    assert.equal(types[0], 'citrate:install:resolve')
    assert.ok(types.includes('citrate:install:download'))
    assert.deepEqual(types.slice(-3), ['citrate:install:verify', 'citrate:install:extract', 'citrate:install:done'])
    const last = events.filter(e => e.type === 'citrate:install:download').at(-1)
    assert.ok(last?.type === 'citrate:install:download' && last.downloadedBytes === last.totalBytes && last.downloadedBytes > 0)
    const m = new DaemonManager({ config: h.config, env: { ...h.env, PATH: '/nonexistent' } })
    const bin = await m.findBinary()
    assert.equal(bin.source, 'citrate_home')
    assert.equal((await m.status()).state, 'Stopped')
  })

  test('"latest" is read from kubo/versions (release candidates ignored)', async () => {
    const h = await home()
    const r = await installKubo({ paths: h.config.paths, version: 'latest', distUrl: fx.mirror.url })
    assert.equal(r.version, fx.mirror.version)
  })

  test('a corrupted tarball is refused by its sha512 and nothing is installed; an earlier install survives', async () => {
    const h = await home()
    const path = `/kubo/${fx.mirror.version}/${fx.mirror.archiveName}`
    const original = fx.mirror.files.get(path) as string
    const bytes = await readFile(original)
    const mid = Math.floor(bytes.length / 2)
    bytes[mid] = (bytes[mid] ?? 0) ^ 0xff
    const corrupt = join(fx.mirror.dir, 'corrupt.tar.gz')
    await writeFile(corrupt, bytes)
    fx.mirror.files.set(path, corrupt)
    try {
      await assert.rejects(installKubo({ paths: h.config.paths, version: fx.mirror.version, distUrl: fx.mirror.url }),
        (err: Error) => err instanceof InstallError && err.code === 'INSTALL_CHECKSUM_MISMATCH' && /nothing was installed/.test(err.message))
      assert.deepEqual(await binContents(h), [], 'no binary and no staging folder left')

      fx.mirror.files.set(path, original)
      await installKubo({ paths: h.config.paths, version: fx.mirror.version, distUrl: fx.mirror.url })
      const before = await stat(join(h.home, 'bin', 'ipfs'))
      fx.mirror.files.set(path, corrupt)
      await assert.rejects(installKubo({ paths: h.config.paths, version: fx.mirror.version, distUrl: fx.mirror.url }), InstallError)
      const afterFail = await stat(join(h.home, 'bin', 'ipfs'))
      assert.equal(afterFail.ino, before.ino, 'the earlier binary is untouched')
      assert.deepEqual(await binContents(h), ['ipfs'])
    } finally {
      fx.mirror.files.set(path, original)
    }
  })

  test('an archive with an entry escaping the target is refused whole, even with a matching sha512', async () => {
    const h = await home()
    const build = join(fx.mirror.dir, 'evil', 'inner')
    await mkdir(join(build, 'kubo'), { recursive: true })
    await writeFile(join(build, 'kubo', 'ipfs'), '#!/bin/sh\necho 0.43.0\n')
    await writeFile(join(fx.mirror.dir, 'evil', 'escaped'), 'should never be written')
    const evilArchive = join(fx.mirror.dir, 'evil.tar.gz')
    await tar.c({ gzip: true, file: evilArchive, cwd: build, preservePaths: true }, ['kubo', '../escaped'])
    const listed: string[] = []
    await tar.t({ file: evilArchive, onReadEntry: e => { listed.push(e.path) } })
    assert.ok(listed.includes('../escaped'), 'the fixture really carries a ../ entry')
    const version = 'v9.9.9'
    const name = fx.mirror.archiveName.replace(fx.mirror.version, version)
    fx.mirror.files.set(`/kubo/${version}/${name}`, evilArchive)
    fx.mirror.files.set(`/kubo/${version}/${name}.sha512`, createHash('sha512').update(await readFile(evilArchive)).digest('hex'))
    await assert.rejects(installKubo({ paths: h.config.paths, version, distUrl: fx.mirror.url }),
      (err: Error) => err instanceof InstallError && err.code === 'INSTALL_ARCHIVE_INVALID' && /\.\.\/escaped/.test(err.message))
    assert.deepEqual(await binContents(h), [])
    assert.deepEqual((await readdir(h.home)).filter(f => f === 'escaped'), [])
  })

  test('a missing release is a download error naming the URL', async () => {
    const h = await home()
    await assert.rejects(installKubo({ paths: h.config.paths, version: 'v0.1.2', distUrl: fx.mirror.url }),
      (err: Error) => err instanceof InstallError && err.code === 'INSTALL_DOWNLOAD_FAILED' && err.message.includes(`${fx.mirror.url}/kubo/v0.1.2/`) && /404/.test(err.message))
    assert.deepEqual(await binContents(h), [])
  })

  test('a stalled download is abandoned with a clear reason and nothing installed', async () => {
    const h = await home()
    const path = `/kubo/${fx.mirror.version}/${fx.mirror.archiveName}`
    fx.mirror.stall.add(path)
    try {
      await assert.rejects(installKubo({ paths: h.config.paths, version: fx.mirror.version, distUrl: fx.mirror.url, stallTimeoutMs: 700 }),
        (err: Error) => err instanceof InstallError && /no data for 0\.7 s/.test(err.message))
      assert.deepEqual(await binContents(h), [])
    } finally {
      fx.mirror.stall.delete(path)
    }
  })

  test('cancel through the AbortSignal', async () => {
    const h = await home()
    const ac = new AbortController()
    const p = installKubo({ paths: h.config.paths, version: fx.mirror.version, distUrl: fx.mirror.url, signal: ac.signal, onProgress: e => { if (e.type === 'citrate:install:download') ac.abort() } })
    await assert.rejects(p, (err: Error & { code?: string }) => err.code === 'ABORTED')
    assert.deepEqual(await binContents(h), [])
  })
})
