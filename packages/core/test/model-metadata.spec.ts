/**
 * Metadata from the bytes, end to end against real kubo: a GGUF, a
 * safetensors file and a Hugging Face-style folder written from their specs,
 * added to kubo and pulled back, carry what their headers say into
 * metadata.json and the registry entry.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pull, registryOf, verifyRegisteredModel, type ModelEntry } from '../src/index.ts'
import { addBytes, ipfs, makeTestHome, type TestHome } from './helpers/kubo.ts'
import { ggufBytes, safetensorsBytes, tinyGguf, TINY_GGUF_PARAMETERS, writeHfFolder } from './fixtures/model-files.ts'
import { bookkeepingFile } from './helpers/layout.ts'

let h: TestHome
let gateway: string
let scratch: string
before(async () => {
  h = await makeTestHome('auto_pin = false')
  const { status } = await h.manager.start()
  gateway = status.gatewayUrl as string
  scratch = await mkdtemp(join(tmpdir(), 'citrate-meta-'))
})
after(async () => {
  await h?.cleanup()
  await rm(scratch, { recursive: true, force: true })
})

async function metadataOf (dir: string): Promise<ModelEntry & { type: string }> {
  return JSON.parse(await readFile(bookkeepingFile(dir, 'metadata.json'), 'utf8')) as ModelEntry & { type: string }
}

describe('pull: metadata from the bytes', () => {
  test('a GGUF: architecture, Q4_K_M, context length and parameters in metadata.json and the registry', async () => {
    const bytes = tinyGguf('Meta Llama Tiny')
    const cid = await addBytes(h.config.paths.ipfsRepo, scratch, 'weights.gguf', bytes)
    const r = await pull({ cid, config: h.config, sources: [gateway], publicGateways: [] })
    assert.equal(r.path, join(h.config.paths.models, 'Meta-Llama-Tiny', 'model.gguf'))
    assert.ok((await readFile(r.path)).equals(bytes), 'byte-identical')
    assert.deepEqual((await readdir(r.dir)).sort(), ['.citrate', 'model.gguf'], 'the model file and our .citrate/, nothing else')
    const stored = (JSON.parse(await readFile(join(h.config.paths.models, 'registry.json'), 'utf8')) as { models: ModelEntry[] }).models.find(m => m.id === r.entry.id)
    assert.equal(stored?.path, 'models/Meta-Llama-Tiny/model.gguf', 'stored relative to the home')
    assert.equal(stored?.quantization, 'Q4_K_M')
    assert.equal(r.entry.quantization, 'Q4_K_M')
    const expected = {
      format: 'gguf', architecture: 'llama', name: 'Meta Llama Tiny', parameter_count: TINY_GGUF_PARAMETERS, file_type: 15, quantization: 'Q4_K_M',
      context_length: 2048, embedding_length: 64, block_count: 2, license: 'apache-2.0', tokenizer_model: 'llama', tensor_count: 4
    }
    assert.deepEqual(r.entry.info, expected)
    assert.deepEqual((await registryOf(h.config).get(r.entry.id))?.info, expected)
    const meta = await metadataOf(r.dir)
    assert.deepEqual(meta.info, expected)
    assert.equal(meta.quantization, 'Q4_K_M')
    const config = JSON.parse(await readFile(bookkeepingFile(r.dir, 'config.json'), 'utf8')) as { format: string }
    assert.equal(config.format, 'gguf')
  })

  test('a safetensors file: dtypes, tensor and parameter counts', async () => {
    const cid = await addBytes(h.config.paths.ipfsRepo, scratch, 'w.safetensors', safetensorsBytes({ a: { dtype: 'BF16', shape: [8, 8] }, b: { dtype: 'F32', shape: [8] } }))
    const r = await pull({ cid, config: h.config, sources: [gateway], publicGateways: [], name: 'st-file' })
    assert.deepEqual(r.entry.info, { format: 'safetensors', parameter_count: 72, tensor_count: 2, dtypes: ['BF16', 'F32'] })
  })

  test('a Hugging Face-style folder: config.json\'s architecture and its shards summed, not "unknown"', async () => {
    const src = join(scratch, 'hf-model')
    const made = await writeHfFolder(src)
    const cid = (await ipfs(h.config.paths.ipfsRepo, ['add', '-r', '-Q', '--pin=false', src])).toString().trim()
    const r = await pull({ cid, config: h.config, sources: [gateway], publicGateways: [], name: 'hf-folder' })
    assert.equal(r.type, 'directory')
    // Intact: the folder's files directly in models/<id>/, its own config.json untouched; ours in .citrate/.
    assert.equal(r.path, join(h.config.paths.models, 'hf-folder'))
    assert.equal(r.dir, r.path)
    assert.deepEqual((await readdir(r.path)).sort(), ['.citrate', ...made.files].sort())
    for (const f of made.files) assert.ok((await readFile(join(r.path, f))).equals(await readFile(join(src, f))), f)
    assert.deepEqual((await readdir(join(r.path, '.citrate'))).sort(), ['config.json', 'dag-index.car', 'metadata.json'])
    assert.equal((await verifyRegisteredModel(h.config, r.entry)).method, 'dag-index', 'verifies at rest with .citrate/ beside the files')
    const stored = (JSON.parse(await readFile(join(h.config.paths.models, 'registry.json'), 'utf8')) as { models: ModelEntry[] }).models.find(m => m.id === 'hf-folder')
    assert.equal(stored?.path, 'models/hf-folder')
    assert.deepEqual(r.entry.info, {
      format: 'safetensors', architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', torch_dtype: 'bfloat16', architecture: 'qwen2',
      tensor_count: made.tensors, parameter_count: made.parameters, dtypes: ['BF16', 'F32']
    })
    const config = JSON.parse(await readFile(bookkeepingFile(r.dir, 'config.json'), 'utf8')) as { format: string }
    assert.equal(config.format, 'safetensors')
  })

  test('a folder with its own top-level .citrate is refused (it would mix with our bookkeeping); nothing is left in place', async () => {
    const src = join(scratch, 'own-citrate')
    await writeHfFolder(src)
    await mkdir(join(src, '.citrate'))
    await writeFile(join(src, '.citrate', 'metadata.json'), '{"not":"ours"}')
    const cid = (await ipfs(h.config.paths.ipfsRepo, ['add', '-r', '--hidden', '-Q', '--pin=false', src])).toString().trim()
    await assert.rejects(pull({ cid, config: h.config, sources: [gateway], publicGateways: [], name: 'own-citrate' }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'UNSUPPORTED')
      assert.match(err.message, /its own top-level "\.citrate" entry/)
      return true
    })
    await assert.rejects(stat(join(h.config.paths.models, 'own-citrate')), { code: 'ENOENT' })
    assert.equal(await registryOf(h.config).get('own-citrate'), undefined)
  })

  test('quantization comes from the header, not the file name; a hostile header is reported as header_error and the name is the fallback', async () => {
    const named = await addBytes(h.config.paths.ipfsRepo, scratch, 'misnamed-Q8_0.gguf', tinyGguf('Misnamed'))
    const r = await pull({ cid: named, config: h.config, sources: [gateway], publicGateways: [], filename: 'misnamed-Q8_0.gguf' })
    assert.equal(r.entry.quantization, 'Q4_K_M', 'general.file_type = 15, whatever the name says')

    // A 2^60-byte string in the header: refused after a bounded read, the content still pulled and verified.
    const hostile = ggufBytes({ kv: [['general.architecture', { t: 'string', v: 'llama' }], ['general.name', { t: 'string', v: 'x' }]] })
    hostile.writeBigUInt64LE(2n ** 60n, 24 + 8 + 'general.architecture'.length + 4 + 8 + 'llama'.length + 8 + 'general.name'.length + 4)
    const cid = await addBytes(h.config.paths.ipfsRepo, scratch, 'hostile-Q5_K_M.gguf', hostile)
    const bad = await pull({ cid, config: h.config, sources: [gateway], publicGateways: [], filename: 'hostile-Q5_K_M.gguf' })
    assert.equal(bad.entry.info?.format, 'gguf')
    assert.match(bad.entry.info?.header_error ?? '', /needs more than the 24 MB read limit/)
    assert.equal(bad.entry.info?.architecture, undefined, 'nothing taken from a header that did not read')
    assert.equal(bad.entry.quantization, 'Q5_K_M', 'from the file name, as the header gave none')
    assert.ok((await readFile(bad.path)).equals(hostile))
    assert.deepEqual((await metadataOf(bad.dir)).info, bad.entry.info)
  })
})
