/**
 * `citrate-ipfs models` through the built binary: a GGUF pulled by bare CID
 * shows what its header says in `models show --json` (and in plain text); a
 * Hugging Face folder lands intact and shows its config.json's architecture;
 * the list is a table with a header row and the total disk use (ids cut with
 * an ellipsis to the width of a real terminal), and `--json` gives the
 * entries with their pin state and disk bytes, and total_disk_bytes.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { lstat, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { addBytes, ipfs, makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'
import { tinyGguf, writeHfFolder } from '../../core/test/fixtures/model-files.ts'
import { cliMain, runCli, type Run } from './helpers/cli.ts'

const ptyRun = fileURLToPath(new URL('./helpers/pty-run.py', import.meta.url))

/** `citrate-ipfs …args` in a real terminal `cols` wide; resolves with what it wrote there. */
async function inTerminal (h: TestHome, cols: number, args: string[]): Promise<string> {
  const child = spawn('python3', [ptyRun, String(cols), '24', '--', process.execPath, cliMain, ...args], {
    env: { ...h.env, TERM: 'xterm-256color', CITRATE_IPFS_PUBLIC_GATEWAYS: '' },
    stdio: ['pipe', 'pipe', 'inherit']
  })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
  const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
  assert.equal(code, 0, out)
  return out
}

/** Bytes of every file under `dir`. */
async function bytesUnder (dir: string): Promise<number> {
  let sum = 0
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) sum += (await lstat(join(e.parentPath, e.name))).size
  return sum
}

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
    assert.equal(doc.model.path, join(h.config.paths.models, 'Cli-Tiny', 'model.gguf'))
    assert.equal((doc.metadata as unknown as { path: string }).path, 'models/Cli-Tiny/model.gguf', '.citrate/metadata.json stores the path relative to the home')

    const text = await cli(h, ['models', 'show', id])
    assert.match(text.stdout, /info\.architecture: llama/)
    assert.match(text.stdout, /info\.context_length: 2048/)
  })

  test('a Hugging Face folder lands intact in models/<id>/; show --json has its architecture; the path is stored relative', async () => {
    const src = join(scratch, 'hf')
    const made = await writeHfFolder(src)
    const cid = (await ipfs(h.config.paths.ipfsRepo, ['add', '-r', '-Q', '--pin=false', src])).toString().trim()
    const pulled = await cli(h, ['pull', cid, '--name', 'qwen-tiny-hf', '--json'])
    assert.equal(pulled.code, 0, pulled.stderr + pulled.stdout)
    const dir = join(h.config.paths.models, 'qwen-tiny-hf')
    assert.deepEqual((await readdir(dir)).sort(), ['.citrate', ...made.files].sort())
    assert.ok((await readFile(join(dir, 'config.json'))).equals(await readFile(join(src, 'config.json'))), 'its own config.json, untouched')
    const doc = lastJson<{ model: { path: string, info: { format: string, architecture: string, architectures: string[] } }, metadata: { path: string } }>(await cli(h, ['models', 'show', 'qwen-tiny-hf', '--json']))
    assert.equal(doc.model.path, dir)
    assert.equal(doc.metadata.path, 'models/qwen-tiny-hf', 'metadata.json stores the path relative to the home')
    assert.equal(doc.model.info.format, 'safetensors')
    assert.equal(doc.model.info.architecture, 'qwen2')
    assert.deepEqual(doc.model.info.architectures, ['Qwen2ForCausalLM'])
    const registry = JSON.parse(await readFile(join(h.config.paths.models, 'registry.json'), 'utf8')) as { models: Array<{ id: string, path: string }> }
    assert.equal(registry.models.find(m => m.id === 'qwen-tiny-hf')?.path, 'models/qwen-tiny-hf')
  })

  test('models: a header row, fitted columns and the total disk use; --json: entries with pinned and disk_bytes, total_disk_bytes', async () => {
    const listed = await cli(h, ['models'])
    assert.equal(listed.code, 0, listed.stderr)
    const lines = listed.stdout.trimEnd().split('\n')
    assert.match(lines[0] ?? '', /^ID\s+KIND\s+SIZE\s+QUANT\s+ARCH\s+VERIFIED\s+PINNED\s+MODIFIED$/)
    const gguf = lines.find(l => l.startsWith('Cli-Tiny ')) ?? ''
    const hf = lines.find(l => l.startsWith('qwen-tiny-hf ')) ?? ''
    // The GGUF was added pinned to this kubo; the folder with --pin=false (and auto_pin is off).
    assert.match(gguf, /^Cli-Tiny\s+model\s+[\d.]+ KB\s+Q4_K_M\s+llama\s+yes\s+yes\s+\d{4}-\d\d-\d\d \d\d:\d\d$/)
    assert.match(hf, /^qwen-tiny-hf\s+model\s+[\d.]+ KB\s+-\s+qwen2\s+yes\s+no\s+\d{4}-/)
    // Fitted: each column starts where its header does, in every row.
    assert.equal(gguf.indexOf('model'), (lines[0] ?? '').indexOf('KIND'))
    assert.equal(gguf.indexOf('Q4_K_M'), (lines[0] ?? '').indexOf('QUANT'))
    assert.equal(hf.indexOf(' - ') + 1, (lines[0] ?? '').indexOf('QUANT'))
    assert.equal(hf.indexOf('qwen2'), (lines[0] ?? '').indexOf('ARCH'))

    const json = lastJson<{ models: Array<{ id: string, pinned: boolean | null, disk_bytes: number, size_bytes: number }>, total_disk_bytes: number }>(await cli(h, ['models', '--json']))
    assert.deepEqual(json.models.map(m => [m.id, m.pinned]), [['Cli-Tiny', true], ['qwen-tiny-hf', false]])
    const onDisk = await bytesUnder(join(h.config.paths.models, 'Cli-Tiny')) + await bytesUnder(join(h.config.paths.models, 'qwen-tiny-hf'))
    assert.equal(json.total_disk_bytes, onDisk, 'the content and the .citrate/ bookkeeping of both')
    for (const m of json.models) assert.ok(m.disk_bytes > m.size_bytes, `${m.id}: its files and ours`)
    assert.match(lines.at(-1) ?? '', new RegExp(`^2 entries, .+ on disk$`))
  })

  test('on a terminal, long ids are cut with an ellipsis so each row fits the width', async () => {
    const cid = await addBytes(h.config.paths.ipfsRepo, scratch, 'long.gguf', tinyGguf('Long Id'))
    const longId = 'an-extremely-long-model-identifier-that-cannot-fit-on-one-narrow-terminal-row'
    assert.equal((await cli(h, ['pull', cid, '--name', longId, '--json'])).code, 0)
    const screen = await inTerminal(h, 90, ['models'])
    const rows = screen.split(/\r?\n/).filter(l => l !== '')
    for (const r of rows) assert.ok([...r].length <= 90, `${[...r].length} columns: ${r}`)
    const cut = rows.find(r => r.startsWith('an-extremely'))
    assert.ok(cut != null, screen)
    assert.match(cut, /^an-extremely-long-[a-z-]*… {2}model\s/)
    assert.equal([...cut].length, 90, 'cut to exactly the width')
    assert.ok(!screen.includes(longId), 'the whole id does not fit, so it is not printed whole')
    // Not a terminal: nothing is cut.
    assert.ok((await cli(h, ['models'])).stdout.includes(longId))
  })
})
