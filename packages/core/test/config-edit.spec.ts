/**
 * `updateIpfsConfig` edits citrate.toml line by line: a person's comments and
 * layout inside [ipfs], its nested [ipfs.x] tables and every other table stay
 * byte for byte; only the changed key's line differs.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, updateIpfsConfig } from '../src/index.ts'
import { editIpfsSection } from '../src/config/edit.ts'

const dirs: string[] = []
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }) })
async function fileWith (text: string): Promise<{ home: string, file: string }> {
  const home = await mkdtemp(join(tmpdir(), 'citrate-config-edit-'))
  dirs.push(home)
  const file = join(home, 'citrate.toml')
  await writeFile(file, text)
  return { home, file }
}

const PERSONS_FILE = [
  '# Citrate node settings',
  '[network]',
  'port = 30303 # p2p',
  '',
  '[ipfs]',
  '# keep big models out',
  '  max_model_size_gb   = 20   # GB, raised for llama',
  'api_port = 5101',
  '',
  '# gateways we trust',
  'public_gateways = [',
  '  "https://ipfs.io", # the default',
  ']',
  '',
  '[ipfs.extra]',
  'note = "nested table, not ours to touch"',
  '',
  '[mempool]',
  'size = 10',
  ''
].join('\n')

/** The lines of `b` that differ from `a` (same line count expected). */
function changedLines (a: string, b: string): Array<[string | undefined, string | undefined]> {
  const x = a.split('\n')
  const y = b.split('\n')
  const out: Array<[string | undefined, string | undefined]> = []
  for (let i = 0; i < Math.max(x.length, y.length); i++) if (x[i] !== y[i]) out.push([x[i], y[i]])
  return out
}

describe('config: line-level edits of [ipfs]', () => {
  test('changing a key rewrites its line only, keeping its indent and comment; everything else byte for byte', async () => {
    const { home, file } = await fileWith(PERSONS_FILE)
    await updateIpfsConfig(file, { max_model_size_gb: 30 })
    const text = await readFile(file, 'utf8')
    assert.deepEqual(changedLines(PERSONS_FILE, text), [['  max_model_size_gb   = 20   # GB, raised for llama', '  max_model_size_gb = 30 # GB, raised for llama']])
    const c = await loadConfig({ home })
    assert.equal(c.ipfs.max_model_size_gb, 30)
    assert.equal(c.ipfs.api_port, 5101)
    assert.deepEqual((await readdir(home)).filter(f => f.endsWith('.tmp')), [], 'no temp file left')
  })

  test('a multi-line value is replaced whole; a new key goes after the last key of [ipfs], before the nested table', async () => {
    const { home, file } = await fileWith(PERSONS_FILE)
    await updateIpfsConfig(file, { public_gateways: ['https://dweb.link'], auto_pin: false })
    const text = await readFile(file, 'utf8')
    const expected = PERSONS_FILE
      .replace('public_gateways = [\n  "https://ipfs.io", # the default\n]\n', 'public_gateways = [ "https://dweb.link" ]\nauto_pin = false\n')
    assert.equal(text, expected)
    const c = await loadConfig({ home })
    assert.deepEqual(c.ipfs.public_gateways, ['https://dweb.link'])
    assert.equal(c.ipfs.auto_pin, false)
  })

  test('CRLF files stay CRLF; a file with no [ipfs] gets one appended; an empty file gets just the table', async () => {
    const crlf = '[network]\r\nport = 1\r\n\r\n[ipfs]\r\napi_port = 5101 # mine\r\n'
    const a = await fileWith(crlf)
    await updateIpfsConfig(a.file, { api_port: 5102 })
    assert.equal(await readFile(a.file, 'utf8'), crlf.replace('5101', '5102'))

    const b = await fileWith('[network]\nport = 1\n')
    await updateIpfsConfig(b.file, { gateway_port: 18080 })
    assert.equal(await readFile(b.file, 'utf8'), '[network]\nport = 1\n\n[ipfs]\ngateway_port = 18080\n')

    assert.equal(editIpfsSection('', { auto_pin: true }), '[ipfs]\nauto_pin = true\n')
  })

  test('a file that spells [ipfs] another way (dotted keys, an inline table) is refused, never written unparseable', async () => {
    assert.equal(editIpfsSection('ipfs.api_port = 5101\n', { api_port: 1 }), undefined)
    assert.equal(editIpfsSection('ipfs = { api_port = 5101 }\n', { api_port: 1 }), undefined)
    const dotted = await fileWith('ipfs.api_port = 5101\n[network]\nport = 1\n')
    await assert.rejects(updateIpfsConfig(dotted.file, { api_port: 5102 }), /cannot change \[ipfs\] as it is written/)
    const inline = 'ipfs = { api_port = 5101 }\n\n[network]\nport = 1\n'
    const { file } = await fileWith(inline)
    await assert.rejects(updateIpfsConfig(file, { api_port: 5102 }), /cannot change \[ipfs\] as it is written/)
    assert.equal(await readFile(file, 'utf8'), inline, 'never a file that no longer parses')
  })

  test('a refused value leaves the file byte for byte', async () => {
    const { file } = await fileWith(PERSONS_FILE)
    await assert.rejects(updateIpfsConfig(file, { max_model_size_gb: 'banana' }), /ipfs\.max_model_size_gb = "banana" is invalid/)
    assert.equal(await readFile(file, 'utf8'), PERSONS_FILE)
  })
})
