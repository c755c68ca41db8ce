/**
 * What a pull names what it writes when the user names nothing, against real
 * kubo: a single file lands as `models/<id>/model.<ext>` with the extension
 * its first bytes show, the id is the GGUF `general.name` (or the short CID),
 * and `--filename` / `--name` still win.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { pull, registryOf, sniffFormat, shortCidId } from '../src/index.ts'
import { chachaBytes } from './helpers/content.ts'
import { addBytes, makeTestHome, type TestHome } from './helpers/kubo.ts'
import { safetensorsBytes, tinyGguf } from './fixtures/model-files.ts'

let h: TestHome
let gateway: string
let scratch: string
before(async () => {
  h = await makeTestHome('auto_pin = false')
  const { status } = await h.manager.start()
  gateway = status.gatewayUrl as string
  scratch = await mkdtemp(join(tmpdir(), 'citrate-names-'))
})
after(async () => {
  await h?.cleanup()
  await rm(scratch, { recursive: true, force: true })
})

const pullIt = async (cid: string, extra: { name?: string, filename?: string } = {}): ReturnType<typeof pull> =>
  await pull({ cid, config: h.config, sources: [gateway], publicGateways: [], ...extra })

describe('file formats from the first bytes', () => {
  test('sniffFormat: each format by its magic, everything else bin', () => {
    const st = safetensorsBytes({ w: { dtype: 'F32', shape: [2] } })
    const table: Array<[string, Uint8Array, string]> = [
      ['GGUF magic', Buffer.from('GGUF\x03\0\0\0'), 'gguf'],
      ['safetensors header', st, 'safetensors'],
      ['safetensors length without "{"', Buffer.concat([st.subarray(0, 8), Buffer.from('[]')]), 'bin'],
      ['a zip (torch.save)', Buffer.from('PK\x03\x04\x14\0\0\0'), 'pytorch'],
      ['ONNX ModelProto (ir_version 8, producer_name)', Buffer.from([0x08, 0x08, 0x12, 0x07, 0x70, 0x79, 0x74]), 'onnx'],
      ['ONNX-like start with an unknown next tag', Buffer.from([0x08, 0x08, 0x99]), 'bin'],
      ['empty', new Uint8Array(0), 'bin'],
      ['text', Buffer.from('hello world, not a model'), 'bin']
    ]
    for (const [what, bytes, format] of table) assert.equal(sniffFormat(bytes), format, what)
  })
})

describe('pull: names from the content', () => {
  test('a GGUF by bare CID lands at models/<general.name>/model.gguf, byte-identical', async () => {
    const bytes = tinyGguf('Tiny Llama Test')
    const cid = await addBytes(h.config.paths.ipfsRepo, scratch, 'a.gguf', bytes)
    const r = await pullIt(cid)
    assert.equal(r.entry.id, 'Tiny-Llama-Test')
    assert.equal(r.path, join(h.config.paths.models, 'Tiny-Llama-Test', 'model.gguf'))
    assert.ok((await readFile(r.path)).equals(bytes))
    assert.equal(r.entry.name, 'Tiny Llama Test')

    // The same CID again, still unnamed: the model already here is the answer, nothing new is registered.
    const again = await pullIt(cid)
    assert.equal(again.alreadyPresent, true)
    assert.equal(again.entry.id, 'Tiny-Llama-Test')
    assert.equal((await registryOf(h.config).byCid(cid)).length, 1)

    // Another GGUF with the same general.name gets the name with its short CID.
    const other = tinyGguf('Tiny Llama Test')
    other[other.length - 1] = (other[other.length - 1] as number) ^ 0xff
    const cid2 = await addBytes(h.config.paths.ipfsRepo, scratch, 'b.gguf', other)
    const r2 = await pullIt(cid2)
    assert.equal(r2.entry.id, `Tiny-Llama-Test-${shortCidId(cid2)}`)
    assert.equal(basename(r2.path), 'model.gguf')
  })

  test('other formats by bare CID: model.safetensors, model.pt, model.onnx, model.bin under the short CID', async () => {
    const cases: Array<[string, Uint8Array]> = [
      ['safetensors', safetensorsBytes({ w: { dtype: 'F16', shape: [4, 4] } })],
      ['pt', Buffer.concat([Buffer.from('PK\x03\x04'), chachaBytes('zip', 300)])],
      ['onnx', Buffer.concat([Buffer.from([0x08, 0x09, 0x12, 0x04]), Buffer.from('test'), chachaBytes('onnx', 100)])],
      ['bin', chachaBytes('plain', 5000)]
    ]
    for (const [ext, bytes] of cases) {
      const cid = await addBytes(h.config.paths.ipfsRepo, scratch, `x.${ext}`, bytes)
      const r = await pullIt(cid)
      assert.equal(r.entry.id, shortCidId(cid), ext)
      assert.equal(r.path, join(h.config.paths.models, shortCidId(cid), `model.${ext}`), ext)
      assert.ok((await readFile(r.path)).equals(bytes), ext)
    }
  })

  test('--filename and --name win over the content', async () => {
    const bytes = tinyGguf('Named By Header')
    const cid = await addBytes(h.config.paths.ipfsRepo, scratch, 'c.gguf', bytes)
    const byFile = await pullIt(cid, { filename: 'tiny-Q4_K_M.gguf' })
    assert.equal(byFile.entry.id, 'tiny-Q4_K_M.gguf')
    assert.equal(basename(byFile.path), 'tiny-Q4_K_M.gguf')
    const byName = await pullIt(cid, { name: 'my-model' })
    assert.equal(byName.entry.id, 'my-model')
    assert.equal(byName.path, join(h.config.paths.models, 'my-model', 'model.gguf'))
    assert.equal(dirname(byName.path), byName.dir)
  })
})
