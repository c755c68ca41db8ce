/**
 * `citrate-ipfs models` through the built binary: a GGUF pulled by bare CID
 * shows what its header says in `models show --json` (and in plain text).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { addBytes, makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'
import { tinyGguf } from '../../core/test/fixtures/model-files.ts'
import { runCli, type Run } from './helpers/cli.ts'

/** Public gateways replaced by none: loopback only. */
const cli = (h: TestHome, args: string[]): Promise<Run> => runCli(h, args, { CITRATE_IPFS_PUBLIC_GATEWAYS: '' })
const lastJson = <T>(r: Run): T => JSON.parse(r.stdout.trim().split('\n').filter(l => l !== '').at(-1) as string) as T

let h: TestHome
let scratch: string
before(async () => {
  h = await makeTestHome('auto_pin = false')
  await h.manager.start()
  scratch = await mkdtemp(join(tmpdir(), 'citrate-models-cli-'))
})
after(async () => {
  await h?.cleanup()
  await rm(scratch, { recursive: true, force: true })
})

describe('citrate-ipfs models', () => {
  test('show --json: the GGUF header\'s architecture, quantization and context length', async () => {
    const cid = await addBytes(h.config.paths.ipfsRepo, scratch, 'tiny.gguf', tinyGguf('Cli Tiny'))
    const pulled = await cli(h, ['pull', cid, '--json'])
    assert.equal(pulled.code, 0, pulled.stderr + pulled.stdout)
    const id = lastJson<{ entry: { id: string } }>(pulled).entry.id
    assert.equal(id, 'Cli-Tiny')

    const shown = await cli(h, ['models', 'show', id, '--json'])
    assert.equal(shown.code, 0, shown.stderr)
    const doc = lastJson<{ model: { quantization: string, path: string, info: Record<string, unknown> }, metadata: { info: Record<string, unknown> } }>(shown)
    assert.equal(doc.model.quantization, 'Q4_K_M')
    assert.equal(doc.model.info.architecture, 'llama')
    assert.equal(doc.model.info.context_length, 2048)
    assert.equal(doc.model.info.quantization, 'Q4_K_M')
    assert.deepEqual(doc.metadata.info, doc.model.info)
    assert.ok(doc.model.path.endsWith(join('Cli-Tiny', 'model.gguf')), doc.model.path)

    const text = await cli(h, ['models', 'show', id])
    assert.match(text.stdout, /info\.architecture: llama/)
    assert.match(text.stdout, /info\.context_length: 2048/)
  })
})
