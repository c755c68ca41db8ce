/**
 * `citrate-ipfs models verify` through the built binary on content pull
 * used to be unable to re-verify: a HAMT-sharded folder hashed with blake3,
 * pulled from the test daemon, then one flipped byte reported with its file
 * and the offset of its block.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { ipfs, makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'
import { runCli, type Run } from './helpers/cli.ts'
import { chachaBytes, flipByte } from '../../core/test/helpers/content.ts'

/** Public gateways replaced by none: loopback only. */
const cli = (h: TestHome, args: string[]): Promise<Run> => runCli(h, args, { CITRATE_IPFS_PUBLIC_GATEWAYS: '' })
interface VerifyOutput { results: Array<{ id: string, ok: boolean, method?: string, error?: { code: string, offset?: number, path?: string } }> }
const jsonLines = <T>(r: Run): T[] => r.stdout.trim().split('\n').filter(l => l !== '').map(l => JSON.parse(l) as T)
const lastJson = <T>(r: Run): T => jsonLines<T>(r).at(-1) as T

let h: TestHome
before(async () => {
  h = await makeTestHome('auto_pin = false')
  await h.manager.start()
})
after(async () => { await h?.cleanup() })

describe('citrate-ipfs models verify', () => {
  test('a pulled blake3 HAMT-sharded folder verifies; a flipped byte is named with its file and block offset', async () => {
    const src = join(h.home, 'sharded')
    await mkdir(src, { recursive: true })
    for (let i = 0; i < 30; i++) await writeFile(join(src, `part-${i}.jsonl`), chachaBytes(`cli-part-${i}`, 100 + i))
    const chunk = 65_536
    await writeFile(join(src, 'weights.bin'), chachaBytes('cli-weights', 10 * chunk + 7))
    const cid = (await ipfs(h.config.paths.ipfsRepo, ['add', '-r', '-Q', '--pin=false', '--hash=blake3', '--cid-version=1', `--chunker=size-${chunk}`, '--max-directory-links=8', '--max-hamt-fanout=16', src])).toString().trim()
    const root = dagPb.decode(await ipfs(h.config.paths.ipfsRepo, ['block', 'get', cid]))
    assert.equal(UnixFS.unmarshal(root.Data ?? new Uint8Array()).type, 'hamt-sharded-directory')

    const pulled = await cli(h, ['pull', cid, '--name', 'sharded', '--json'])
    assert.equal(pulled.code, 0, pulled.stderr + pulled.stdout)
    const { path } = lastJson<{ path: string }>(pulled)

    const ok = await cli(h, ['models', 'verify', 'sharded', '--json'])
    assert.equal(ok.code, 0, ok.stderr + ok.stdout)
    assert.deepEqual(lastJson<VerifyOutput>(ok).results.map(r => [r.id, r.ok, r.method]), [['sharded', true, 'dag-index']])

    const weights = join(path, 'weights.bin')
    const flipped = 7 * chunk + 100
    await flipByte(weights, flipped)
    const bad = await cli(h, ['models', 'verify', 'sharded', '--json'])
    assert.equal(bad.code, 1)
    // The results come first; the last line is the error that sets the exit code.
    const res = jsonLines<VerifyOutput>(bad)[0]?.results[0]
    assert.equal(lastJson<{ error: { code: string } }>(bad).error.code, 'CONTENT_CORRUPT')
    assert.equal(res?.ok, false)
    assert.equal(res?.error?.code, 'CONTENT_CORRUPT')
    assert.equal(res?.error?.path, weights)
    assert.equal(res?.error?.offset, 7 * chunk)
    const human = await cli(h, ['models', 'verify', 'sharded'])
    assert.match(human.stderr, new RegExp(`sharded: FAILED: .*weights\\.bin.*offset ${7 * chunk}`))
    await flipByte(weights, flipped)
    assert.equal((await cli(h, ['models', 'verify', 'sharded'])).code, 0)
  })
})
