/**
 * `get`, `put` and `pull --kind asset` end to end through the built binary,
 * against the real kubo of a test home: kubo's own CIDs for the same input,
 * JSON back out of dag-cbor, files and paths in folders to stdout and -o, the
 * cap, a CID nobody has, bad paths, and help with examples.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ipfs, makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'
import { cliMain, runCli, type Run } from './helpers/cli.ts'
import { chachaBytes } from '../../core/test/helpers/content.ts'

const lastJson = (r: Run): Record<string, any> => JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') // eslint-disable-line @typescript-eslint/no-explicit-any

/** The CLI with `input` on its stdin. */
function cliWithStdin (h: TestHome, args: string[], input: Uint8Array): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliMain, ...args], { env: h.env })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString() })
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString() })
    child.on('error', reject)
    child.on('close', code => { resolve({ code: code ?? 1, stdout, stderr }) })
    child.stdin.end(input)
  })
}

describe('citrate-ipfs get / put', () => {
  let h: TestHome
  let repo: string
  const doc = { contract: '0x5fbdb2315678afecb367f032d93f642f64180aa3', tokenId: 7, attributes: [{ trait: 'size', value: 'XL' }], proof: { '/': { bytes: 'AAEC' } } }
  const kubo = async (args: string[], input?: Uint8Array): Promise<string> => (await ipfs(repo, args, input)).toString().trim()
  before(async () => {
    h = await makeTestHome('auto_pin = false')
    repo = h.config.paths.ipfsRepo
  })
  after(async () => { await h.cleanup() })

  test('without a daemon: put needs it (exit 4) unless --car, and the CAR holds kubo\'s CID', async () => {
    const file = join(h.home, 'blob.bin')
    await writeFile(file, chachaBytes('cli-put-raw', 5000))
    const noDaemon = await runCli(h, ['put', file, '--codec', 'raw', '--json'])
    assert.equal(noDaemon.code, 4)
    assert.equal(lastJson(noDaemon).error.code, 'DAEMON_NOT_RUNNING')
    const car = join(h.home, 'blob.car')
    const r = await runCli(h, ['put', file, '--codec', 'raw', '--car', car, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const j = lastJson(r)
    assert.equal(j.target, 'car')
    assert.equal(j.url, `ipfs://${j.cid as string}`)
    assert.ok((await stat(car)).size > 5000)
    await h.manager.start()
    assert.match(await kubo(['dag', 'import', car]), new RegExp(j.cid))
    assert.equal(j.cid, await kubo(['block', 'put'], await readFile(file)))
  })

  test('put - --codec dag-cbor from stdin gives `ipfs dag put`\'s CID; get prints JSON equal to it', async () => {
    const input = new TextEncoder().encode(JSON.stringify(doc))
    const put = await cliWithStdin(h, ['put', '-', '--codec', 'dag-cbor'], input)
    assert.equal(put.code, 0, put.stderr)
    const [cid = '', link = ''] = put.stdout.trim().split('\n')
    assert.equal(cid, await kubo(['dag', 'put', '--input-codec', 'dag-json', '--store-codec', 'dag-cbor'], input))
    assert.ok(link.startsWith(`ipfs://${cid}`), link)
    assert.match(link, /dag-cbor.*pinned/)
    assert.ok((await kubo(['pin', 'ls', '--type=recursive', '-q'])).split('\n').includes(cid))

    const got = await runCli(h, ['get', cid])
    assert.equal(got.code, 0, got.stderr)
    assert.deepEqual(JSON.parse(got.stdout), doc)
    const field = await runCli(h, ['get', `${cid}/attributes/0/value`])
    assert.equal(field.stdout, '"XL"\n')
    const asJson = lastJson(await runCli(h, ['get', `ipfs://${cid}`, '--json']))
    assert.equal(asJson.kind, 'dag-cbor')
    assert.deepEqual(asJson.value, doc)
  })

  test('put FILE (unixfs) = `ipfs add`; get of a file inside a folder to stdout and with -o (atomic, exact bytes)', async () => {
    const file = join(h.home, 'meta.json')
    await writeFile(file, JSON.stringify(doc))
    const put = await runCli(h, ['put', file, '--json'])
    assert.equal(put.code, 0, put.stderr)
    assert.equal(lastJson(put).codec, 'unixfs')
    assert.equal(lastJson(put).cid, await kubo(['add', '-Q', '-n', file]))

    const folder = join(h.home, 'collection')
    await mkdir(join(folder, 'images'), { recursive: true })
    const image = chachaBytes('cli-image', 300_000)
    await writeFile(join(folder, 'images', '7.png'), image)
    await writeFile(join(folder, '7.json'), JSON.stringify(doc))
    const folderCid = await kubo(['add', '-r', '-Q', folder])
    const json = await runCli(h, ['get', `/ipfs/${folderCid}/7.json`])
    assert.equal(json.code, 0, json.stderr)
    assert.equal(json.stdout, JSON.stringify(doc))

    const out = join(h.home, 'out', 'seven.png')
    await mkdir(join(h.home, 'out'))
    const written = await runCli(h, ['get', `${folderCid}/images/7.png`, '-o', out])
    assert.equal(written.code, 0, written.stderr)
    assert.match(written.stdout, /wrote .* \(file, verified\)/)
    assert.ok((await readFile(out)).equals(image))
    assert.deepEqual(await readdir(join(h.home, 'out')), ['seven.png'], 'nothing half-written is left beside it')
  })

  test('over the cap, a CID nobody has, a bad path: clear messages and codes', async () => {
    const file = join(h.home, 'big.bin')
    await writeFile(file, chachaBytes('cli-big', 40_000))
    const cid = await kubo(['add', '-Q', file])
    const over = await runCli(h, ['get', cid, '--max-bytes', '1000'])
    assert.equal(over.code, 1)
    assert.match(over.stderr, /citrate-ipfs: error: .*40000 bytes, over the limit of 1000 bytes/)
    assert.match(over.stderr, /hint: .*--max-bytes/)
    assert.equal(over.stdout, '', 'nothing goes to stdout')
    assert.equal(lastJson(await runCli(h, ['get', cid, '--max-bytes', '1000', '--json'])).error.code, 'OBJECT_TOO_LARGE')

    const missing = 'bafkreihchy3yiw6uqqnceq4tf7hzm3vm7j2chg35gfzsx2neglu7kbahya' // raw, sha2-256 of 'citrate-ipfs: never added anywhere'
    const notFound = await runCli(h, ['get', missing, '--json'])
    assert.equal(notFound.code, 1)
    assert.equal(lastJson(notFound).error.code, 'CONTENT_NOT_FOUND', notFound.stdout)
    assert.match(lastJson(notFound).error.message, /not found on any source/)

    const dots = await runCli(h, ['get', `${cid}/../etc/passwd`, '--json'])
    assert.equal(dots.code, 2)
    assert.equal(lastJson(dots).error.code, 'INVALID_CID')
    const badCap = await runCli(h, ['get', cid, '--max-bytes', '-5', '--json'])
    assert.equal(lastJson(badCap).error.code, 'INVALID_ARGUMENT')
    const badJson = await cliWithStdin(h, ['put', '--codec', 'dag-json', '--json'], new TextEncoder().encode('{"a":'))
    assert.equal(badJson.code, 2)
    assert.match(lastJson(badJson).error.message, /not valid dag-json/)
    const tooBig = await runCli(h, ['put', file, '--max-bytes', '100', '--json'])
    assert.equal(lastJson(tooBig).error.code, 'OBJECT_TOO_LARGE')
  })

  test('pull --kind asset lands under $CITRATE_HOME/assets/<id>/ and is registered as an asset', async () => {
    const file = join(h.home, 'logo.svg')
    await writeFile(file, '<svg xmlns="http://www.w3.org/2000/svg"/>')
    const cid = await kubo(['add', '-Q', file])
    const pulled = await runCli(h, ['pull', cid, '--kind', 'asset', '--name', 'citrate-logo', '--filename', 'logo.svg', '--json'])
    assert.equal(pulled.code, 0, pulled.stderr)
    assert.equal(await readFile(join(h.home, 'assets', 'citrate-logo', 'logo.svg'), 'utf8'), '<svg xmlns="http://www.w3.org/2000/svg"/>')
    const listed = lastJson(await runCli(h, ['models', '--json']))
    const entry = (listed.models as Array<{ id: string, kind: string }>).find(m => m.id === 'citrate-logo')
    assert.equal(entry?.kind, 'asset')
  })

  test('help shows the forms and examples', async () => {
    const get = await runCli(h, ['get', '--help'])
    assert.match(get.stdout, /--max-bytes/)
    assert.match(get.stdout, /Examples:[\s\S]*citrate-ipfs get/)
    const put = await runCli(h, ['put', '--help'])
    assert.match(put.stdout, /--codec <codec>[\s\S]*unixfs/)
    assert.match(put.stdout, /--no-pin/)
    assert.match(put.stdout, /Examples:[\s\S]*--codec dag-cbor/)
  })
})
