/**
 * The per-install secret that locks kubo's RPC. kubo's RPC is admin-level
 * (shutdown, config, pin/rm, repo/gc…) and listens on 127.0.0.1, where every
 * local user and every local program can reach it; with `API.Authorizations`
 * set, kubo answers only requests carrying `Authorization: Bearer <secret>`
 * (anything else: 403, `version` included).
 *
 * The secret is 32 bytes from the OS's CSPRNG, hex, in
 * `$CITRATE_HOME/run/kubo-rpc-secret` with mode 0600 (a no-op on Windows, where
 * the home folder's ACL is what protects it). It is made once per install and
 * never logged, printed or served: only the kubo repo config (also 0600) and
 * the RPC client's request headers ever hold it.
 */
import { randomBytes } from 'node:crypto'
import { chmod, link, mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { fsyncDir } from '../util/atomic-write.ts'

/** Our entry's name in kubo's `API.Authorizations` (others, e.g. the user's own, are kept). */
export const RPC_AUTHORIZATION_NAME = 'citrate'

const SECRET_FORMAT = /^[0-9a-f]{64}$/

/** The secret if the file holds a well-formed one; undefined if there is none yet. */
export async function readRpcSecret (path: string): Promise<string | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  const secret = text.trim()
  return SECRET_FORMAT.test(secret) ? secret : undefined
}

/**
 * Reads the secret, creating it on first use. Creation is atomic and exclusive:
 * the secret is written and flushed aside, then hard-linked into place, which
 * fails if another process got there first — then that process's secret is the
 * one (two commands starting together must not configure kubo with one secret
 * and keep another).
 */
export async function loadOrCreateRpcSecret (path: string): Promise<string> {
  const existing = await readRpcSecret(path)
  if (existing != null) {
    // Tighten a file whose mode was loosened by hand or by a copy.
    await chmod(path, 0o600)
    return existing
  }
  const secret = randomBytes(32).toString('hex')
  const dir = dirname(path)
  await mkdir(dir, { recursive: true })
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  try {
    const fh = await open(tmp, 'wx', 0o600)
    try {
      await fh.writeFile(secret + '\n')
      await fh.sync()
    } finally {
      await fh.close()
    }
    try {
      await link(tmp, path)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EEXIST') {
        const winner = await readRpcSecret(path)
        if (winner != null) return winner
        // A malformed file (not one of ours): replace it.
        await rename(tmp, path)
      } else if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS') {
        // A file system without hard links (FAT, some network shares): a plain atomic rename.
        await rename(tmp, path)
      } else {
        throw err
      }
    }
  } finally {
    await rm(tmp, { force: true })
  }
  await fsyncDir(dir)
  return (await readRpcSecret(path)) ?? secret
}

/** The `API.Authorizations` entry that admits this secret to the whole RPC. */
export function rpcAuthorization (secret: string): { AuthSecret: string, AllowedPaths: string[] } {
  return { AuthSecret: `bearer:${secret}`, AllowedPaths: ['/api/v0'] }
}
