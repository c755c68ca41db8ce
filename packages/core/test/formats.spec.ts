/**
 * Model headers read from the bytes (formats/): the fields a GGUF v3 and a
 * safetensors file written from their specs carry, a Hugging Face-style
 * folder, and every kind of bad or hostile header refused cleanly with a
 * message naming the problem (huge counts, truncation, wrong types).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeContent, readGgufHeader, readSafetensorsHeader, GGUF_READ_LIMIT_BYTES, MAX_KV_COUNT, MAX_TENSORS } from '../src/index.ts'
import { ggufBytes, safetensorsBytes, tinyGguf, TINY_GGUF_PARAMETERS, writeHfFolder, type GgufOptions } from './fixtures/model-files.ts'

let dir: string
before(async () => { dir = await mkdtemp(join(tmpdir(), 'citrate-formats-')) })
after(async () => { await rm(dir, { recursive: true, force: true }) })

let n = 0
async function fileOf (bytes: Uint8Array, ext: string): Promise<string> {
  const p = join(dir, `f${n++}.${ext}`)
  await writeFile(p, bytes)
  return p
}

const ARCH: GgufOptions['kv'] = [['general.architecture', { t: 'string', v: 'llama' }]]

describe('GGUF header', () => {
  test('the fixture\'s fields: architecture, name, parameters, Q4_K_M from general.file_type, context, embedding, blocks, license, tokenizer', async () => {
    const g = await readGgufHeader(await fileOf(tinyGguf('Tiny'), 'gguf'))
    assert.deepEqual(g, {
      version: 3,
      tensorCount: 4,
      architecture: 'llama',
      name: 'Tiny',
      parameterCount: TINY_GGUF_PARAMETERS,
      fileType: 15,
      quantization: 'Q4_K_M',
      license: 'apache-2.0',
      tokenizerModel: 'llama',
      contextLength: 2048,
      embeddingLength: 64,
      blockCount: 2
    })
  })

  test('64-bit integers and a version 2 file read too', async () => {
    const g = await readGgufHeader(await fileOf(ggufBytes({ version: 2, kv: [...ARCH, ['general.file_type', { t: 'u64', v: 7n }], ['llama.context_length', { t: 'u64', v: 32768n }]] }), 'gguf'))
    assert.equal(g.version, 2)
    assert.equal(g.quantization, 'Q8_0')
    assert.equal(g.contextLength, 32768)
  })

  const refused: Array<[string, () => Buffer, RegExp]> = [
    ['no magic', () => Buffer.from('GGUX\x03\0\0\0'), /GGUF magic/],
    ['ends inside the fixed header', () => tinyGguf().subarray(0, 12), /inside the fixed header/],
    ['version 1', () => ggufBytes({ version: 1, kv: [] }), /version 1/],
    ['version 4', () => ggufBytes({ version: 4, kv: [] }), /version 4/],
    ['2^40 tensors declared', () => ggufBytes({ kv: ARCH, tensorCount: 2n ** 40n }), new RegExp(`at most ${MAX_TENSORS}`)],
    ['10^12 key/values declared', () => ggufBytes({ kv: ARCH, kvCount: 10n ** 12n }), new RegExp(`at most ${MAX_KV_COUNT}`)],
    ['more key/values declared than the file holds', () => ggufBytes({ kv: ARCH, kvCount: 5000n }), /truncated/],
    ['more tensors declared than the file holds', () => ggufBytes({ kv: ARCH, tensorCount: 1000n }), /truncated|past the end|cannot fit/],
    ['cut in the middle of the tensor infos', () => tinyGguf().subarray(0, 420), /truncated|past the end/],
    ['cut in the middle of the tokens array', () => tinyGguf().subarray(0, 330), /truncated|past the end/],
    ['general.architecture a number', () => ggufBytes({ kv: [['general.architecture', { t: 'u32', v: 3 }]] }), /general\.architecture is a number, expected a string/],
    ['general.file_type a string', () => ggufBytes({ kv: [...ARCH, ['general.file_type', { t: 'string', v: 'Q4_K_M' }]] }), /general\.file_type is a string/],
    ['context_length negative', () => ggufBytes({ kv: [...ARCH, ['llama.context_length', { t: 'i32', v: -1 }]] }), /llama\.context_length is -1/],
    ['context_length a float', () => ggufBytes({ kv: [...ARCH, ['llama.context_length', { t: 'f32', v: 1.5 }]] }), /llama\.context_length is 1\.5/],
    ['an unknown value type', () => { const b = ggufBytes({ kv: ARCH }); b.writeUInt32LE(99, 24 + 8 + 'general.architecture'.length); return b }, /unknown type 99/]
  ]
  for (const [what, bytes, message] of refused) {
    test(`refused: ${what}`, async () => {
      await assert.rejects(readGgufHeader(await fileOf(bytes(), 'gguf')), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'UNSUPPORTED')
        assert.match(err.message, /^not a readable GGUF header in f\d+\.gguf: /)
        assert.match(err.message, message)
        return true
      })
    })
  }

  const at = 24 + 8 + 'general.name'.length + 4
  const hostile: Array<[string, () => Buffer, RegExp]> = [
    ['a 2^60-byte string value', () => { const b = ggufBytes({ kv: [['general.name', { t: 'string', v: 'x' }]] }); b.writeBigUInt64LE(2n ** 60n, at); return b }, /needs more than the 24 MB read limit/],
    ['a 2^60-byte key', () => { const b = ggufBytes({ kv: [['general.name', { t: 'string', v: 'x' }]] }); b.writeBigUInt64LE(2n ** 60n, 24); return b }, /needs more than the 24 MB read limit/],
    ['a 2^60-element array', () => {
      const b = ggufBytes({ kv: [['general.name', { t: 'array', of: 'u8', v: [1] }]] })
      b.writeBigUInt64LE(2n ** 60n, at + 4)
      return b
    }, /needs more than the 24 MB read limit/],
    ['general.name an array of numbers', () => ggufBytes({ kv: [...ARCH, ['general.name', { t: 'array', of: 'u32', v: [1, 2] }]] }), /general\.name is a array, expected a string/],
    ['a tensor with 2^32-1 dimensions', () => {
      const b = ggufBytes({ kv: ARCH, tensors: [{ name: 't', shape: [4] }] })
      const nDimsAt = b.indexOf(Buffer.from('t\x01\x00\x00\x00', 'latin1'))
      b.writeUInt32LE(0xffffffff, nDimsAt + 1)
      return b
    }, /n_dims \d+ exceeds maximum/]
  ]
  for (const [what, bytes, message] of hostile) {
    test(`hostile, refused: ${what}`, async () => {
      const path = await fileOf(bytes(), 'gguf')
      await assert.rejects(readGgufHeader(path), (err: Error & { code?: string }) => err.code === 'UNSUPPORTED' && message.test(err.message))
      // As metadata: the format stands, the header is reported, nothing thrown.
      const info = await describeContent(path, 'file')
      assert.equal(info.format, 'gguf')
      assert.match(info.header_error ?? '', message)
      assert.equal(info.architecture, undefined)
    })
  }

  /** A GGUF with a BPE vocabulary of `n` tokens and as many merges (a real Qwen2 header has ~150,000 of each). */
  const vocabularyGguf = (n: number, tokenText: (i: number) => string): Buffer => ggufBytes({
    kv: [
      ['general.architecture', { t: 'string', v: 'qwen2' }],
      ['general.file_type', { t: 'u32', v: 15 }],
      ['tokenizer.ggml.model', { t: 'string', v: 'gpt2' }],
      ['tokenizer.ggml.tokens', { t: 'array', of: 'string', v: Array.from({ length: n }, (_, i) => tokenText(i)) }],
      ['tokenizer.ggml.merges', { t: 'array', of: 'string', v: Array.from({ length: n }, (_, i) => `m${i} erge`) }],
      ['qwen2.context_length', { t: 'u32', v: 32768 }]
    ],
    tensors: [{ name: 'output_norm.weight', shape: [8] }]
  })

  test(`the read bound: a real-sized 8 MB header reads; one that needs more than ${GGUF_READ_LIMIT_BYTES / 1e6} MB is refused at the bound, in linear time`, async () => {
    const real = await readGgufHeader(await fileOf(vocabularyGguf(150_000, i => `token-${i}-abcdefgh`), 'gguf'))
    assert.deepEqual([real.architecture, real.quantization, real.tokenizerModel, real.contextLength], ['qwen2', 'Q4_K_M', 'gpt2', 32768])
    // 30,000 tokens of 1,000 bytes: a 30 MB header, refused after reading at most 24 MB of it.
    const huge = vocabularyGguf(30_000, i => `t${String(i).padStart(999, '0')}`)
    assert.ok(huge.length > GGUF_READ_LIMIT_BYTES)
    await assert.rejects(readGgufHeader(await fileOf(huge, 'gguf')), (err: Error & { code?: string }) => err.code === 'UNSUPPORTED' && /needs more than the 24 MB read limit/.test(err.message))
    // Or declared, not written: a 2^40-element array of u64 in a small file.
    const declared = ggufBytes({ kv: [...ARCH, ['tokenizer.ggml.scores', { t: 'array', of: 'u64', v: [1n] }]] })
    declared.writeBigUInt64LE(2n ** 40n, declared.length - 16)
    await assert.rejects(readGgufHeader(await fileOf(declared, 'gguf')), /needs more than the 24 MB read limit/)
  })

  test('a header declared far past the read limit is refused without reading it all (a 2^40-byte string)', async () => {
    const b = ggufBytes({ kv: [['general.name', { t: 'string', v: 'x' }]] })
    b.writeBigUInt64LE(2n ** 40n, 24 + 8 + 'general.name'.length + 4)
    await assert.rejects(readGgufHeader(await fileOf(b, 'gguf')), /needs more than the 24 MB read limit/)
  })
})

describe('safetensors header', () => {
  test('dtypes, tensor and parameter counts, __metadata__', async () => {
    const s = await readSafetensorsHeader(await fileOf(safetensorsBytes({ a: { dtype: 'F16', shape: [3, 4] }, b: { dtype: 'F32', shape: [5] }, c: { dtype: 'F16', shape: [] } }, { format: 'pt' }), 'safetensors'))
    assert.deepEqual(s, { tensorCount: 3, parameterCount: 12 + 5 + 1, dtypes: ['F16', 'F32'], metadata: { format: 'pt' } })
  })

  const good = (): Buffer => safetensorsBytes({ w: { dtype: 'F32', shape: [4] } })
  const withHeader = (json: string, data = 16): Buffer => {
    const len = Buffer.alloc(8)
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)))
    return Buffer.concat([len, Buffer.from(json), Buffer.alloc(data)])
  }
  const refused: Array<[string, () => Buffer, RegExp]> = [
    ['shorter than the length field', () => Buffer.from([1, 2, 3]), /fewer than the 8-byte/],
    ['a 2^60-byte header declared', () => { const b = good(); b.writeBigUInt64LE(2n ** 60n, 0); return b }, /at most 16777216 are read/],
    ['a header longer than the file', () => { const b = good(); return b.subarray(0, 20) }, /truncated/],
    ['not JSON', () => withHeader('{"w": nope}'), /not JSON/],
    ['a JSON array', () => withHeader('[1,2]'), /not a JSON object/],
    ['a shape of strings', () => withHeader('{"w":{"dtype":"F32","shape":["4"],"data_offsets":[0,16]}}'), /has shape/],
    ['a negative dimension', () => withHeader('{"w":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}}'), /has shape/],
    ['offsets past the data', () => withHeader('{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,17]}}'), /outside the 16 data bytes/],
    ['offsets reversed', () => withHeader('{"w":{"dtype":"F32","shape":[4],"data_offsets":[8,0]}}'), /data_offsets/],
    ['a dtype that is not a name', () => withHeader('{"w":{"dtype":5,"shape":[4],"data_offsets":[0,16]}}'), /dtype 5/],
    ['__metadata__ with a number', () => withHeader('{"__metadata__":{"a":1}}'), /__metadata__/],
    ['shapes that overflow', () => withHeader('{"w":{"dtype":"F32","shape":[9007199254740991,9007199254740991],"data_offsets":[0,16]}}'), /impossible parameter count/]
  ]
  for (const [what, bytes, message] of refused) {
    test(`refused: ${what}`, async () => {
      await assert.rejects(readSafetensorsHeader(await fileOf(bytes(), 'safetensors')), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'UNSUPPORTED')
        assert.match(err.message, message)
        return true
      })
    })
  }
})

describe('describeContent', () => {
  test('a Hugging Face-style folder: config.json\'s architecture fields, the shards summed', async () => {
    const folder = join(dir, 'hf')
    const made = await writeHfFolder(folder)
    assert.deepEqual(await describeContent(folder, 'directory'), {
      format: 'safetensors',
      architectures: ['Qwen2ForCausalLM'],
      model_type: 'qwen2',
      torch_dtype: 'bfloat16',
      architecture: 'qwen2',
      tensor_count: made.tensors,
      parameter_count: made.parameters,
      dtypes: ['BF16', 'F32']
    })
  })

  test('a bad header is reported, never thrown: the bytes are still the content', async () => {
    const info = await describeContent(await fileOf(ggufBytes({ kv: ARCH, kvCount: 5000n }), 'gguf'), 'file')
    assert.equal(info.format, 'gguf')
    assert.match(info.header_error ?? '', /truncated/)
  })
})
