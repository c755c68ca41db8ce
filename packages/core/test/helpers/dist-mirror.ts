/**
 * A kubo dist mirror on 127.0.0.1 in the official layout, built from the
 * Go-built test kubo: `kubo/versions`, `kubo/vX.Y.Z/kubo_vX.Y.Z_linux-amd64.tar.gz`
 * and its `.sha512`.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before } from 'node:test'
import * as tar from 'tar'
import { kuboArchiveName, kuboVersion } from '../../src/index.ts'
import { makeTestHome, testKuboBinary, type TestHome } from './kubo.ts'

export interface DistMirror {
  url: string
  version: string
  archiveName: string
  /** Files served, by URL path; tests may replace them. */
  files: Map<string, string | Buffer>
  /** URL paths whose response stalls after the first bytes. */
  stall: Set<string>
  /** Bytes per second to serve archives at (unset: as fast as possible), so progress is visible. */
  throttle: { bytesPerSecond?: number }
  requests: string[]
  close: () => Promise<void>
  dir: string
}

export async function startDistMirror (): Promise<DistMirror> {
  const dir = await mkdtemp(join(tmpdir(), 'citrate-dist-'))
  const version = `v${await kuboVersion(testKuboBinary())}`
  const archiveName = kuboArchiveName(version)
  await mkdir(join(dir, 'pkg', 'kubo'), { recursive: true })
  await copyFile(testKuboBinary(), join(dir, 'pkg', 'kubo', 'ipfs'))
  const archive = join(dir, archiveName)
  await tar.c({ gzip: { level: 1 }, file: archive, cwd: join(dir, 'pkg'), portable: true }, ['kubo'])
  const files = new Map<string, string | Buffer>()
  files.set('/kubo/versions', `v0.40.0\nv0.41.0-rc1\n${version}\n`)
  files.set(`/kubo/${version}/${archiveName}`, archive)
  files.set(`/kubo/${version}/${archiveName}.sha512`, `${await sha512File(archive)}  ${archiveName}\n`)
  const stall = new Set<string>()
  const throttle: { bytesPerSecond?: number } = {}
  const requests: string[] = []
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    requests.push(path)
    const body = files.get(path)
    if (body == null) { res.writeHead(404).end('not found'); return }
    if (typeof body === 'string' && body.startsWith(dir)) {
      void stat(body).then(st => {
        res.writeHead(200, { 'content-length': st.size, 'content-type': 'application/gzip' })
        if (stall.has(path)) {
          // Send a little, then nothing more: the client must notice.
          createReadStream(body, { start: 0, end: 65535 }).on('data', c => res.write(c))
          return
        }
        const rate = throttle.bytesPerSecond
        if (rate == null) { createReadStream(body).pipe(res); return }
        const chunk = Math.max(16 * 1024, Math.floor(rate / 20))
        const stream = createReadStream(body, { highWaterMark: chunk })
        stream.on('data', c => {
          stream.pause()
          res.write(c)
          setTimeout(() => stream.resume(), (c.length / rate) * 1000)
        })
        stream.on('end', () => res.end())
        res.on('close', () => stream.destroy())
      })
      return
    }
    res.writeHead(200).end(body)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const addr = server.address()
  const port = typeof addr === 'object' && addr != null ? addr.port : 0
  return {
    url: `http://127.0.0.1:${port}`,
    version,
    archiveName,
    files,
    stall,
    throttle,
    requests,
    dir,
    close: async () => {
      server.closeAllConnections()
      await new Promise(resolve => server.close(resolve))
      await rm(dir, { recursive: true, force: true })
    }
  }
}

export async function sha512File (path: string): Promise<string> {
  return createHash('sha512').update(await readFile(path)).digest('hex')
}

export async function writeVariant (dir: string, name: string, data: Buffer): Promise<string> {
  const p = join(dir, name)
  await writeFile(p, data)
  return p
}

export interface InstallerFixture {
  /** The file's mirror, set once its `before` hook has run. */
  readonly mirror: DistMirror
  /** A home whose daemon_path is a bare name on no PATH, so only a kubo installed into it can be found. */
  home: () => Promise<TestHome>
  /** What a home's bin/ holds, sorted ([] when there is none). */
  binContents: (h: TestHome) => Promise<string[]>
}

/**
 * The installer specs' shared setup: one dist mirror per file and the homes the file makes, started and
 * cleaned up by `before` / `after` hooks registered here (call it at the top level of a spec file).
 */
export function installerFixture (): InstallerFixture {
  let mirror: DistMirror | undefined
  const homes: TestHome[] = []
  before(async () => { mirror = await startDistMirror() })
  after(async () => {
    for (const h of homes) await h.cleanup()
    await mirror?.close()
  })
  return {
    get mirror () {
      if (mirror == null) throw new Error('installerFixture: the mirror is started by the file\'s before hook')
      return mirror
    },
    home: async () => {
      const h = await makeTestHome('', { daemonPath: 'ipfs-citrate-test-absent' })
      homes.push(h)
      return h
    },
    binContents: async (h) => (await readdir(join(h.home, 'bin')).catch(() => [])).sort()
  }
}
