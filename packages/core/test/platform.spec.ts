import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import {
  archiveFormat, defaultCitrateHome, distTarget, executableCandidates, expandHome, kuboArchiveName,
  kuboBinaryName, terminationSignals, UnsupportedPlatformError, rustTargetTriple, sidecarFileName, bundledKuboNames
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

  test('Tauri sidecar names: one mapping from Node platform/arch to Rust target triples', () => {
    const cases = [
      { platform: 'linux', arch: 'x64', triple: 'x86_64-unknown-linux-gnu', file: 'citrate-ipfs-x86_64-unknown-linux-gnu' },
      { platform: 'linux', arch: 'arm64', triple: 'aarch64-unknown-linux-gnu', file: 'citrate-ipfs-aarch64-unknown-linux-gnu' },
      { platform: 'darwin', arch: 'arm64', triple: 'aarch64-apple-darwin', file: 'citrate-ipfs-aarch64-apple-darwin' },
      { platform: 'darwin', arch: 'x64', triple: 'x86_64-apple-darwin', file: 'citrate-ipfs-x86_64-apple-darwin' },
      { platform: 'win32', arch: 'x64', triple: 'x86_64-pc-windows-msvc', file: 'citrate-ipfs-x86_64-pc-windows-msvc.exe' }
    ] as const
    for (const c of cases) {
      const p = { platform: c.platform, arch: c.arch }
      assert.equal(rustTargetTriple(p), c.triple)
      assert.equal(sidecarFileName('citrate-ipfs', p), c.file)
    }
    // kubo beside us: the triple-named file (source tree, dist/sidecar) first, then the name a bundled app installs.
    assert.deepEqual(bundledKuboNames({ platform: 'win32', arch: 'x64' }), ['ipfs-x86_64-pc-windows-msvc.exe', 'ipfs.exe'])
    assert.deepEqual(bundledKuboNames({ platform: 'darwin', arch: 'arm64' }), ['ipfs-aarch64-apple-darwin', 'ipfs'])
    assert.deepEqual(bundledKuboNames({ platform: 'freebsd', arch: 'x64' }), ['ipfs'])
    assert.throws(() => rustTargetTriple({ platform: 'linux', arch: 'ia32' }), (err: Error) => err instanceof UnsupportedPlatformError && /linux\/ia32/.test(err.message))
  })

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

describe('kubo lookup order', () => {
  test('daemon_path, then $CITRATE_HOME/bin, then a kubo bundled beside us (triple name first), then PATH', async () => {
    const { mkdtemp, mkdir, writeFile, rm } = await import('node:fs/promises')
    const { tmpdir } = await import('node:os')
    const { locateKubo } = await import('../src/index.ts')
    const root = await mkdtemp(join(tmpdir(), 'citrate-lookup-'))
    try {
      const exe = async (p: string): Promise<string> => { await mkdir(join(p, '..'), { recursive: true }); await writeFile(p, '#!/bin/sh\n', { mode: 0o755 }); return p }
      const bundledDir = join(root, 'app')
      const onPath = await exe(join(root, 'path', 'ipfs'))
      const base = { daemonPath: 'ipfs', installedPath: join(root, 'home', 'bin', 'ipfs'), env: { PATH: join(root, 'path') } }
      assert.deepEqual(await locateKubo({ ...base, bundledDir }), { path: onPath, source: 'path' })
      const plain = await exe(join(bundledDir, 'ipfs'))
      assert.deepEqual(await locateKubo({ ...base, bundledDir }), { path: plain, source: 'bundled' })
      const triple = await exe(join(bundledDir, sidecarFileName('ipfs')))
      assert.deepEqual(await locateKubo({ ...base, bundledDir }), { path: triple, source: 'bundled' })
      // Not packaged (plain Node): nothing beside node is taken for kubo.
      assert.deepEqual(await locateKubo(base), { path: onPath, source: 'path' })
      const installed = await exe(base.installedPath)
      assert.deepEqual(await locateKubo({ ...base, bundledDir }), { path: installed, source: 'citrate_home' })
      const explicit = await exe(join(root, 'custom', 'kubo'))
      assert.deepEqual(await locateKubo({ ...base, daemonPath: explicit, bundledDir }), { path: explicit, source: 'daemon_path' })
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })
})

describe('kubo process names', () => {
  test('ipfs, ipfs.exe and sidecar names are kubo; other programs are not', async () => {
    const { isKuboCommandName } = await import('../src/daemon/process.ts')
    for (const n of ['/usr/bin/ipfs', 'C:\\kubo\\ipfs.exe', '/app/ipfs-x86_64-unknown-linux-gnu', '/app/ipfs-aarch64-apple-darwin', 'C:\\app\\ipfs-x86_64-pc-windows-msvc.exe']) {
      assert.equal(isKuboCommandName(n), true, n)
    }
    for (const n of ['/usr/bin/node', '/usr/bin/ipfs-cluster-service', '/bin/sh', '/x/myipfs']) {
      assert.equal(isKuboCommandName(n), false, n)
    }
  })
})

describe('kubo version cache', () => {
  test('the version is asked of the binary once per file: a replaced binary is asked again', async () => {
    const { mkdtemp, readFile, rm, writeFile, mkdir } = await import('node:fs/promises')
    const { tmpdir } = await import('node:os')
    const { findKubo } = await import('../src/index.ts')
    const root = await mkdtemp(join(tmpdir(), 'citrate-vcache-'))
    try {
      const calls = join(root, 'calls')
      const bin = join(root, 'ipfs')
      const fake = async (v: string): Promise<void> => { await writeFile(bin, `#!/bin/sh\necho x >> ${calls}\necho ${v}\n`, { mode: 0o755 }) }
      await fake('0.43.0')
      await mkdir(join(root, 'run'))
      const opts = { daemonPath: bin, installedPath: join(root, 'none'), env: { PATH: '' }, versionCache: join(root, 'run', 'kubo-version.json') }
      assert.equal((await findKubo(opts)).version, '0.43.0')
      assert.equal((await findKubo(opts)).version, '0.43.0')
      assert.equal((await readFile(calls, 'utf8')).split('\n').filter(Boolean).length, 1, 'second lookup answered from the cache')
      await rm(bin)
      await fake('0.44.1') // a new file: another inode (and mtime)
      assert.equal((await findKubo(opts)).version, '0.44.1')
      assert.equal((await readFile(calls, 'utf8')).split('\n').filter(Boolean).length, 2)
      // A garbled cache is ignored, never trusted.
      await writeFile(opts.versionCache, '{"path": 1')
      assert.equal((await findKubo(opts)).version, '0.44.1')
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  })
})
