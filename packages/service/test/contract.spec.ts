/**
 * The wire contract is written once: the service validates with the
 * contract's schemas and publishes exactly them, core's wire types are the
 * contract's, and the argument constraints the service relied on survive.
 * No kubo needed.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Ajv } from 'ajv'
import {
  COMMAND_SCHEMAS, ErrorBody, IpfsStatus, ModelEntry, ModelKind, ModelSource, ServiceEvent,
  type CommandArgs, type CommandName, type CommandResult, type InstallProgress
} from '@citrate-ipfs/contract'
import type * as client from '@citrate-ipfs/client'
import {
  MODEL_KINDS, MODEL_SOURCES, ModelRegistry, toStatusView,
  type DaemonStatus, type DownloadProgress, type InstallProgressEvent, type IpfsStatusView, type ModelEntry as CoreModelEntry
} from '../../core/src/index.ts'
import { COMMANDS, openApiDocument } from '../src/index.ts'

/** True when A and B are the same type (not merely assignable one way). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false

// Compile-time half of the contract: `npm run typecheck` fails if any of these becomes false.
const sameTypes: Array<true> = [
  // Each handler returns exactly the contract's result for its command (COMMANDS' annotation proves it; this keeps it so).
  true as { [C in CommandName]: Equal<Awaited<ReturnType<typeof COMMANDS[C]['run']>>, CommandResult<C>> }[CommandName],
  true as { [C in CommandName]: Equal<Parameters<typeof COMMANDS[C]['run']>[1], CommandArgs<C>> }[CommandName],
  // The client's names are the contract's types.
  true as Equal<client.CommandMap[CommandName], { [C in CommandName]: { args: CommandArgs<C>, result: CommandResult<C> } }[CommandName]>,
  true as Equal<client.ServiceEvent, ServiceEvent>,
  // Core's wire types are the contract's.
  true as Equal<CoreModelEntry, client.ModelEntry>,
  true as Equal<DownloadProgress, client.DownloadProgress>,
  true as Equal<IpfsStatusView, client.IpfsStatus>,
  true as Equal<InstallProgressEvent, Exclude<InstallProgress, { type: 'citrate:install:failed' }>>,
  // Commands without arguments take nothing else: `{ surprise: true }` must not type-check.
  true as Equal<CommandArgs<'ipfs_check_status'>, Record<string, never>>
]

async function ensureDir (dir: string): Promise<string> {
  await mkdir(dir, { recursive: true })
  return dir
}

const json = (v: unknown): unknown => JSON.parse(JSON.stringify(v))
// The server's own settings, so "valid here" means "accepted by the service".
const ajv = new Ajv({ allErrors: false, strict: false })

describe('one wire contract', () => {
  test('the type-level checks above hold', () => {
    assert.equal(sameTypes.length, 9)
    assert.ok(sameTypes.every(t => t))
  })

  test('the service serves the contract\'s commands with the contract\'s schemas, not copies', () => {
    assert.deepEqual(Object.keys(COMMANDS).sort(), Object.keys(COMMAND_SCHEMAS).sort())
    for (const name of Object.keys(COMMAND_SCHEMAS) as CommandName[]) {
      assert.equal(COMMANDS[name].args, COMMAND_SCHEMAS[name].args, `${name} args`)
      assert.equal(COMMANDS[name].result, COMMAND_SCHEMAS[name].result, `${name} result`)
      assert.equal(COMMANDS[name].summary, COMMAND_SCHEMAS[name].summary, `${name} summary`)
    }
  })

  test('OpenAPI publishes every command\'s args and result schema exactly as the contract has it', () => {
    const doc = json(openApiDocument()) as {
      paths: Record<string, { post?: { summary: string, requestBody: { content: Record<string, { schema: unknown }> }, responses: Record<string, { content: Record<string, { schema: unknown }> }> } }>
      components: { schemas: Record<string, unknown> }
    }
    const documented = Object.keys(doc.paths).filter(p => p.startsWith('/api/commands/')).map(p => p.slice('/api/commands/'.length)).sort()
    assert.deepEqual(documented, Object.keys(COMMAND_SCHEMAS).sort())
    for (const name of Object.keys(COMMAND_SCHEMAS) as CommandName[]) {
      const op = doc.paths[`/api/commands/${name}`]?.post
      assert.ok(op != null, name)
      assert.equal(op.summary, COMMAND_SCHEMAS[name].summary)
      assert.deepEqual(op.requestBody.content['application/json']?.schema, json(COMMAND_SCHEMAS[name].args), `${name} args`)
      assert.deepEqual(op.responses['200']?.content['application/json']?.schema, json(COMMAND_SCHEMAS[name].result), `${name} result`)
    }
    assert.deepEqual(doc.components.schemas.Error, json(ErrorBody))
    assert.deepEqual(doc.components.schemas.ServiceEvent, json(ServiceEvent))
    // TypeBox's bookkeeping ('~kind', '~optional') is not enumerable, so none of it leaks into the document.
    assert.ok(!JSON.stringify(doc).includes('~'), 'no TypeBox internals in the published schemas')
  })

  test('every command\'s arguments are a closed object', () => {
    for (const [name, spec] of Object.entries(COMMAND_SCHEMAS)) {
      assert.equal(spec.args.type, 'object', name)
      assert.equal((spec.args as { additionalProperties?: unknown }).additionalProperties, false, name)
      assert.equal(ajv.validate(spec.args, { surprise: true }), false, `${name} must refuse an unknown key`)
    }
  })

  test('the argument constraints the service always had still hold', () => {
    const long = (n: number): string => 'x'.repeat(n)
    const cases: Array<[CommandName, unknown, boolean]> = [
      ['ipfs_check_status', {}, true],
      ['ipfs_install', {}, true],
      ['ipfs_install', { version: 'latest' }, true],
      ['ipfs_install', { version: 'v0.43.0' }, true],
      ['ipfs_install', { version: '0.43.0-rc1' }, true],
      ['ipfs_install', { version: 'v0.43' }, false],
      ['ipfs_install', { version: 'v0.43.0; rm -rf /' }, false],
      ['ipfs_configure_gateway', { url: '' }, true],
      ['ipfs_configure_gateway', {}, false],
      ['ipfs_configure_gateway', { url: 5 }, false],
      ['ipfs_configure_gateway', { url: long(2048) }, true],
      ['ipfs_configure_gateway', { url: long(2049) }, false],
      ['ipfs_download_model', { cid: 'bafy' }, true],
      ['ipfs_download_model', { cid: '' }, false],
      // A content path (a gateway link with a folder path) may be long: up to 4096 characters since paths are accepted.
      ['ipfs_download_model', { cid: long(4096) }, true],
      ['ipfs_download_model', { cid: long(4097) }, false],
      ['ipfs_download_model', { cid: 'bafy', name: '' }, false],
      ['ipfs_download_model', { cid: 'bafy', name: long(201) }, false],
      ['ipfs_download_model', { cid: 'bafy', filename: long(255) }, true],
      ['ipfs_download_model', { cid: 'bafy', filename: long(256) }, false],
      ...MODEL_KINDS.map((kind): [CommandName, unknown, boolean] => ['ipfs_download_model', { cid: 'bafy', kind }, true]),
      ['ipfs_download_model', { cid: 'bafy', kind: 'weights' }, false],
      ...['auto', 'daemon', 'gateway'].map((source): [CommandName, unknown, boolean] => ['ipfs_download_model', { cid: 'bafy', source }, true]),
      ['ipfs_download_model', { cid: 'bafy', source: 'ftp' }, false],
      ['ipfs_pause_download', {}, false],
      ['ipfs_set_download_limit', { mbps: 0 }, true],
      ['ipfs_set_download_limit', { mbps: 2.5 }, true],
      ['ipfs_set_download_limit', { mbps: -1 }, false],
      ['ipfs_set_download_limit', { mbps: '4' }, false],
      ['ipfs_set_download_limit', {}, false],
      ['ipfs_resume_download', { id: long(200) }, true],
      ['ipfs_cancel_download', { id: long(201) }, false],
      ['ipfs_verify_model', { id: '' }, false],
      ['ipfs_remove_model', { id: 'm', keepPin: true }, true],
      ['ipfs_remove_model', { id: '' }, false],
      ['ipfs_remove_model', { id: 'm', keepPin: 'yes' }, false],
      ['ipfs_pin', { cid: 'bafy', name: long(200) }, true],
      ['ipfs_pin', { cid: 'bafy', name: long(201) }, false],
      ['ipfs_unpin', { cid: 'bafy', force: true }, true],
      ['ipfs_unpin', { force: true }, false]
    ]
    for (const [name, args, ok] of cases) {
      assert.equal(ajv.validate(COMMAND_SCHEMAS[name].args, args), ok, `${name} ${JSON.stringify(args).slice(0, 80)} should be ${ok ? 'accepted' : 'refused'}`)
    }
  })

  test('core\'s status view of every daemon state matches the wire schema', () => {
    const states: DaemonStatus[] = [
      { state: 'NotInstalled', message: 'kubo is not installed' },
      { state: 'Stopped', kuboVersion: '0.43.0' },
      { state: 'Starting', pid: 42 },
      { state: 'Running', peerId: '12D3KooW', addresses: ['/ip4/127.0.0.1/tcp/4001'], apiUrl: 'http://127.0.0.1:5001', gatewayUrl: 'http://127.0.0.1:8080', kuboVersion: '0.43.0', rpcProtected: true, pid: 42 },
      { state: 'Error', code: 'DAEMON_START_FAILED', message: 'it exited', logTail: 'Error: …' }
    ]
    for (const s of states) assert.ok(ajv.validate(IpfsStatus, toStatusView(s)), `${s.state}: ${ajv.errorsText()}`)
    assert.equal(ajv.validate(IpfsStatus, { state: 'Sleeping', installed: true, running: false, connected: false }), false)
  })

  test('the registry\'s kinds and sources are the contract\'s, and its validation agrees with the schema', async () => {
    assert.deepEqual([...MODEL_KINDS], ModelKind.enum)
    assert.deepEqual([...MODEL_SOURCES], ModelSource.enum)
    const good = {
      id: 'llama-3', name: 'llama-3', cid: 'bafkreid', size_bytes: 4_700_000_000, quantization: 'Q4_K_M', downloaded_at: '2025-01-02T03:04:05.000Z',
      path: '/m/llama-3/model.gguf', source: 'ipfs', source_url: null, verified: true, kind: 'model'
    }
    const variants: Array<[string, Record<string, unknown>, boolean]> = [
      ['as written', good, true],
      ['no quantization', { ...good, quantization: null }, true],
      ['a dataset from a gateway', { ...good, kind: 'dataset', source: 'gateway', source_url: 'https://gw.example/ipfs/bafkreid' }, true],
      ['empty id', { ...good, id: '' }, false],
      ['empty path', { ...good, path: '' }, false],
      ['negative size', { ...good, size_bytes: -1 }, false],
      ['fractional size', { ...good, size_bytes: 1.5 }, false],
      ['unknown source', { ...good, source: 'usb' }, false],
      ['unknown kind', { ...good, kind: 'weights' }, false],
      ['verified as a string', { ...good, verified: 'yes' }, false],
      ['missing source_url', (({ source_url: _, ...rest }) => rest)(good), false]
    ]
    const scratch = await mkdtemp(join(tmpdir(), 'citrate-contract-'))
    try {
      for (const [i, [what, entry, ok]] of variants.entries()) {
        const modelsDir = join(scratch, String(i))
        await writeFile(join(await ensureDir(modelsDir), 'registry.json'), JSON.stringify({ version: '1.1', models: [entry] }))
        const read = await new ModelRegistry({ modelsDir }).list().then(() => 'read', (err: { code?: string }) => err.code)
        assert.equal(read, ok ? 'read' : 'REGISTRY_CORRUPT', `registry validation: ${what}`)
        assert.equal(ajv.validate(ModelEntry, entry), ok, `wire schema: ${what}`)
      }
    } finally {
      await rm(scratch, { recursive: true, force: true })
    }
  })
})
