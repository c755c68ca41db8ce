import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import {
  archiveFormat, defaultCitrateHome, distTarget, executableCandidates, expandHome, kuboArchiveName,
  kuboBinaryName, terminationSignals, UnsupportedPlatformError
} from '../src/index.ts'

describe('platform mapping', () => {
  const cases = [
    { platform: 'linux', arch: 'x64', archive: 'kubo_v0.43.0_linux-amd64.tar.gz', bin: 'ipfs' },
    { platform: 'linux', arch: 'arm64', archive: 'kubo_v0.43.0_linux-arm64.tar.gz', bin: 'ipfs' },
    { platform: 'darwin', arch: 'x64', archive: 'kubo_v0.43.0_darwin-amd64.tar.gz', bin: 'ipfs' },
    { platform: 'darwin', arch: 'arm64', archive: 'kubo_v0.43.0_darwin-arm64.tar.gz', bin: 'ipfs' },
    { platform: 'win32', arch: 'x64', archive: 'kubo_v0.43.0_windows-amd64.zip', bin: 'ipfs.exe' },
    { platform: 'win32', arch: 'arm64', archive: 'kubo_v0.43.0_windows-arm64.zip', bin: 'ipfs.exe' }
  ] as const
  for (const c of cases) {
    test(`${c.platform}/${c.arch} → ${c.archive}`, () => {
      const p = { platform: c.platform, arch: c.arch }
      assert.equal(kuboArchiveName('v0.43.0', p), c.archive)
      assert.equal(kuboBinaryName(p), c.bin)
      assert.equal(archiveFormat(p), c.platform === 'win32' ? 'zip' : 'tar.gz')
    })
  }

  test('unsupported platforms are a typed error naming them', () => {
    assert.throws(() => distTarget({ platform: 'aix', arch: 'ppc64' }), (err: Error) => err instanceof UnsupportedPlatformError && /aix\/ppc64/.test(err.message))
  })

  test('termination: SIGTERM then SIGKILL on POSIX, no graceful signal on Windows', () => {
    assert.deepEqual(terminationSignals({ platform: 'linux', arch: 'x64' }), { graceful: 'SIGTERM', force: 'SIGKILL' })
    assert.deepEqual(terminationSignals({ platform: 'darwin', arch: 'arm64' }), { graceful: 'SIGTERM', force: 'SIGKILL' })
    assert.deepEqual(terminationSignals({ platform: 'win32', arch: 'x64' }), { graceful: null, force: 'SIGKILL' })
  })

  test('PATH lookup names: PATHEXT on Windows only', () => {
    assert.deepEqual(executableCandidates('ipfs', { platform: 'linux', arch: 'x64' }), ['ipfs'])
    assert.deepEqual(executableCandidates('ipfs', { platform: 'win32', arch: 'x64' }, '.EXE;.CMD'), ['ipfs.exe', 'ipfs.cmd'])
    assert.deepEqual(executableCandidates('ipfs.exe', { platform: 'win32', arch: 'x64' }, '.EXE;.CMD'), ['ipfs.exe'])
  })

  test('CITRATE_HOME defaults to ~/.citrate and expands ~', () => {
    assert.equal(defaultCitrateHome({}, '/home/u'), join('/home/u', '.citrate'))
    assert.equal(defaultCitrateHome({ CITRATE_HOME: '~/x' }, '/home/u'), join('/home/u', 'x'))
    assert.equal(defaultCitrateHome({ CITRATE_HOME: '/data/c' }, '/home/u'), '/data/c')
    assert.equal(expandHome('~', '/h'), '/h')
    assert.equal(expandHome('~/models', '/h'), join('/h', 'models'))
    assert.equal(expandHome('a/~/b', '/h'), 'a/~/b')
  })
})
