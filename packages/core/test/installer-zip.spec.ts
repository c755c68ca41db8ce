/**
 * The installer on kubo's Windows releases (`kubo_vX_windows-amd64.zip`, entry
 * `kubo/ipfs.exe`), against a loopback dist mirror serving zips this test
 * builds: the same rules as the .tar.gz — verified, nothing escapes, no links
 * or special files, size bounds, and a bad archive installs nothing.
 * The zipped `ipfs.exe` is the Go-built test kubo, so it really runs here.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { InstallError, installKubo, kuboArchiveName, kuboVersion } from '../src/index.ts'
import { extractorFor, safeExtractTarGz } from '../src/install/installer.ts'
import { safeExtractZip } from '../src/install/zip.ts'
import { ARCHIVE_LIMITS, type ArchiveLimits } from '../src/install/entry-rules.ts'
import { testKuboBinary } from './helpers/kubo.ts'
import { installerFixture } from './helpers/dist-mirror.ts'
import { buildZip, type ZipEntrySpec } from './helpers/zip.ts'

const WINDOWS = { platform: 'win32', arch: 'x64' } as const

const fx = installerFixture()
const { home, binContents } = fx
let goodZip: Buffer
before(async () => {
  // The layout of kubo's own release zip: a kubo/ folder with the binary and its papers.
  goodZip = buildZip([
    { name: 'kubo/' },
    { name: 'kubo/LICENSE', data: 'MIT or Apache-2.0\n'.repeat(50) },
    { name: 'kubo/README.md', data: '# kubo\n', method: 0 },
    { name: 'kubo/ipfs.exe', data: await readFile(testKuboBinary()), mode: 0o100755 }
  ])
})

let releases = 0
/** Publishes a Windows release of these bytes under a fresh version, with their sha512 (or the one given). */
async function publish (data: Buffer, sha512 = createHash('sha512').update(data).digest('hex')): Promise<{ version: string, path: string }> {
  const version = `v0.90.${releases++}`
  const name = kuboArchiveName(version, WINDOWS)
  const file = join(fx.mirror.dir, name)
  await writeFile(file, data)
  const path = `/kubo/${version}/${name}`
  fx.mirror.files.set(path, file)
  fx.mirror.files.set(`${path}.sha512`, `${sha512}  ${name}\n`)
  return { version, path }
}

function refusedAsInvalid (pattern: RegExp): (err: Error) => boolean {
  return (err: Error) => {
    assert.ok(err instanceof InstallError, `an InstallError, got ${err.name}: ${err.message}`)
    assert.equal(err.code, 'INSTALL_ARCHIVE_INVALID', err.message)
    assert.match(err.message, pattern)
    return true
  }
}

describe('kubo installer: Windows .zip releases (loopback dist mirror)', () => {
  test('the extractor follows the platform: .zip on Windows, .tar.gz elsewhere', () => {
    assert.equal(extractorFor(WINDOWS), safeExtractZip)
    assert.equal(extractorFor({ platform: 'win32', arch: 'arm64' }), safeExtractZip)
    assert.equal(extractorFor({ platform: 'linux', arch: 'x64' }), safeExtractTarGz)
    assert.equal(extractorFor({ platform: 'darwin', arch: 'arm64' }), safeExtractTarGz)
    assert.equal(kuboArchiveName('v0.43.0', WINDOWS), 'kubo_v0.43.0_windows-amd64.zip')
  })

  test('a good release zip installs kubo/ipfs.exe: fetched as .zip, verified, extracted, run once, moved into place', async () => {
    const h = await home()
    const wanted = fx.mirror.version.replace(/^v/, '')
    // The real version, so the installer's run-once check passes: serve the zip under it.
    const name = kuboArchiveName(fx.mirror.version, WINDOWS)
    const file = join(fx.mirror.dir, name)
    await writeFile(file, goodZip)
    fx.mirror.files.set(`/kubo/${fx.mirror.version}/${name}`, file)
    fx.mirror.files.set(`/kubo/${fx.mirror.version}/${name}.sha512`, createHash('sha512').update(goodZip).digest('hex'))
    const r = await installKubo({ paths: h.config.paths, version: fx.mirror.version, distUrl: fx.mirror.url, platform: WINDOWS })
    assert.ok(fx.mirror.requests.includes(`/kubo/${fx.mirror.version}/${name}`), 'the .zip was the archive fetched')
    assert.equal(r.path, h.config.paths.installedKubo)
    assert.equal(await kuboVersion(r.path), wanted)
    assert.equal(r.bytes, goodZip.length)
    assert.deepEqual(await binContents(h), [h.config.paths.installedKubo.split(/[\\/]/).at(-1)], 'the binary alone: no staging folder, no papers')
  })

  const hostileNames: Array<[string, ZipEntrySpec, RegExp]> = [
    ['a ../ entry', { name: '../escaped', data: 'x' }, /invalid relative path: \.\.\/escaped/],
    ['a ../ entry inside kubo/', { name: 'kubo/../../escaped', data: 'x' }, /invalid relative path: kubo\/\.\.\/\.\.\/escaped/],
    ['an absolute entry', { name: '/tmp/citrate-escaped', data: 'x' }, /absolute path: \/tmp\/citrate-escaped/],
    ['a drive-letter entry', { name: 'C:/Windows/escaped', data: 'x' }, /absolute path: C:\/Windows\/escaped/],
    ['a backslash entry', { name: 'kubo\\..\\..\\escaped', data: 'x' }, /invalid characters in fileName/],
    ['an NTFS stream entry', { name: 'kubo/ipfs.exe:hidden', data: 'x' }, /ipfs\.exe:hidden \(a character that is not allowed/],
    ['a symlink entry', { name: 'kubo/ipfs.exe', data: '/bin/sh', mode: 0o120777 }, /kubo\/ipfs\.exe \(a symbolic link\)/],
    ['a FIFO entry', { name: 'kubo/pipe', mode: 0o010644, method: 0 }, /kubo\/pipe \(file type 10000\)/],
    ['two entries differing only in case', { name: 'kubo/IPFS.exe', data: 'x' }, /kubo\/IPFS\.exe \(a second entry of the same name\)/]
  ]
  for (const [what, entry, pattern] of hostileNames) {
    test(`${what} is refused whole, even with a matching sha512, and nothing is written`, async () => {
      const h = await home()
      const zip = buildZip([{ name: 'kubo/' }, { name: 'kubo/ipfs.exe', data: '#!/bin/sh\necho 0.90.0\n' }, entry])
      const { version } = await publish(zip)
      await assert.rejects(installKubo({ paths: h.config.paths, version, distUrl: fx.mirror.url, platform: WINDOWS }), refusedAsInvalid(pattern))
      assert.deepEqual(await binContents(h), [], 'no binary and no staging folder left')
      assert.deepEqual((await readdir(h.home)).filter(f => f.includes('escaped')), [])
      assert.deepEqual((await readdir(join(h.home, '..'))).filter(f => f === 'escaped'), [])
    })
  }

  test('a truncated zip is refused as unreadable and nothing is installed', async () => {
    const h = await home()
    const { version } = await publish(goodZip.subarray(0, Math.floor(goodZip.length / 2)))
    await assert.rejects(installKubo({ paths: h.config.paths, version, distUrl: fx.mirror.url, platform: WINDOWS }), refusedAsInvalid(/is not a readable \.zip: end of central directory record signature not found/i))
    assert.deepEqual(await binContents(h), [])
  })

  test('a zip with a corrupted entry (its sha512 published to match) fails extraction and installs nothing', async () => {
    const h = await home()
    const bytes = Buffer.from(goodZip)
    // Inside ipfs.exe's deflated data: the last local entry, well before the central directory.
    const at = Math.floor(bytes.length * 0.6)
    for (let i = 0; i < 64; i++) bytes[at + i] = (bytes[at + i] ?? 0) ^ 0x5a
    const { version } = await publish(bytes)
    await assert.rejects(installKubo({ paths: h.config.paths, version, distUrl: fx.mirror.url, platform: WINDOWS }),
      refusedAsInvalid(/could not extract kubo\/ipfs\.exe from .*: (invalid|incorrect|CRC-32|too many|.* bytes, not)/i))
    assert.deepEqual(await binContents(h), [], 'the half-written binary went with the staging folder')
  })

  test('a zip whose bytes do not match the published sha512 is refused before it is opened; an earlier install survives', async () => {
    const h = await home()
    const name = kuboArchiveName(fx.mirror.version, WINDOWS)
    const file = join(fx.mirror.dir, name)
    await writeFile(file, goodZip)
    fx.mirror.files.set(`/kubo/${fx.mirror.version}/${name}`, file)
    fx.mirror.files.set(`/kubo/${fx.mirror.version}/${name}.sha512`, createHash('sha512').update(goodZip).digest('hex'))
    await installKubo({ paths: h.config.paths, version: fx.mirror.version, distUrl: fx.mirror.url, platform: WINDOWS })
    const before = await readFile(h.config.paths.installedKubo)
    fx.mirror.files.set(`/kubo/${fx.mirror.version}/${name}.sha512`, createHash('sha512').update('another release').digest('hex'))
    await assert.rejects(installKubo({ paths: h.config.paths, version: fx.mirror.version, distUrl: fx.mirror.url, platform: WINDOWS }),
      (err: Error) => err instanceof InstallError && err.code === 'INSTALL_CHECKSUM_MISMATCH' && /nothing was installed/.test(err.message))
    assert.ok((await readFile(h.config.paths.installedKubo)).equals(before), 'the earlier binary is untouched')
    assert.deepEqual(await binContents(h), [h.config.paths.installedKubo.split(/[\\/]/).at(-1)])
  })
})

describe('zip extraction bounds (safeExtractZip)', () => {
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'citrate-zip-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  async function extract (zip: Buffer, limits: ArchiveLimits = ARCHIVE_LIMITS): Promise<string> {
    const name = `t${Math.random().toString(36).slice(2)}`
    const file = join(dir, `${name}.zip`)
    await writeFile(file, zip)
    const out = join(dir, name)
    await mkdir(out)
    await safeExtractZip(file, join(out, 'x'), limits)
    return out
  }

  test('an entry over the size bound is refused before anything is written', async () => {
    const zip = buildZip([{ name: 'kubo/ipfs.exe', data: Buffer.alloc(4096) }])
    await assert.rejects(extract(zip, { ...ARCHIVE_LIMITS, entryBytes: 4095 }), refusedAsInvalid(/kubo\/ipfs\.exe \(4096 bytes, more than 4095\)/))
  })

  test('entries over the total bound, or too many of them, are refused', async () => {
    const zip = buildZip([{ name: 'a', data: Buffer.alloc(3000) }, { name: 'b', data: Buffer.alloc(3000) }])
    await assert.rejects(extract(zip, { ...ARCHIVE_LIMITS, totalBytes: 5000 }), refusedAsInvalid(/would unpack to 6000 bytes \(more than 5000\)/))
    await assert.rejects(extract(zip, { ...ARCHIVE_LIMITS, entries: 1 }), refusedAsInvalid(/lists 2 entries/))
  })

  test('an entry that inflates past the size its header declares (a zip bomb) fails, leaving nothing beyond the declared size', async () => {
    const zip = buildZip([{ name: 'kubo/ipfs.exe', data: Buffer.alloc(1024 * 1024) }])
    // Patch the declared uncompressed size to 1 KiB in the central directory (offset 24 of its record).
    const cd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]))
    zip.writeUInt32LE(1024, cd + 24)
    zip.writeUInt32LE(1024, 22) // and in the local header, for readers that look there
    const out = join(dir, 'bomb')
    await mkdir(out)
    const file = join(dir, 'bomb.zip')
    await writeFile(file, zip)
    await assert.rejects(safeExtractZip(file, join(out, 'x')), refusedAsInvalid(/could not extract kubo\/ipfs\.exe/))
    const written = await readFile(join(out, 'x', 'kubo', 'ipfs.exe')).catch(() => Buffer.alloc(0))
    assert.ok(written.length <= 1024, `at most the declared 1024 bytes reached the disk (got ${written.length})`)
  })

  test('a good zip extracts byte for byte, folders included', async () => {
    const payload = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) & 0xff))
    const out = await extract(buildZip([{ name: 'kubo/' }, { name: 'kubo/sub/a.bin', data: payload }, { name: 'kubo/empty', method: 0 }]))
    assert.ok((await readFile(join(out, 'x', 'kubo', 'sub', 'a.bin'))).equals(payload))
    assert.equal((await readFile(join(out, 'x', 'kubo', 'empty'))).length, 0)
  })
})
