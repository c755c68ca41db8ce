/**
 * The error vocabulary, checked over core's sources: no message names a CLI
 * flag or command (the same messages reach the UI, where they would be
 * wrong; the CLI and the UI add their own hints), and every code in the
 * vocabulary is one core actually raises.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { globSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import ts from 'typescript'
import { ERROR_CODES } from '@citrate-ipfs/contract'
import { CitrateError, InvalidCidError, PinInUseError, TargetExistsError, KuboTooOldError, DaemonNotRunningError, toCitrateError } from '../src/index.ts'

const SRC = fileURLToPath(new URL('../src/', import.meta.url))
const files = globSync('**/*.ts', { cwd: SRC }).sort()

/** The CLI's subcommands: `citrate-ipfs <one of these>` in a message is CLI wording. */
const SUBCOMMANDS = ['add', 'config', 'daemon', 'gateway', 'gc', 'install', 'models', 'pin', 'pins', 'pull', 'serve', 'status', 'unpin']
const CLI_COMMAND = new RegExp(`citrate-ipfs (${SUBCOMMANDS.join('|')})\\b`)
/** A `--flag` as a word of a sentence (start, after a space, a quote or a bracket). */
const CLI_FLAG = /(^|[\s`'"(])--[a-z][a-z-]*/

interface Literal { file: string, line: number, text: string }

/** Every string and template literal (template holes as `${}`) in a file, comments excluded. */
function literals (file: string): Literal[] {
  const source = ts.createSourceFile(file, readFileSync(join(SRC, file), 'utf8'), ts.ScriptTarget.Latest, true)
  const out: Literal[] = []
  const visit = (node: ts.Node): void => {
    let text: string | undefined
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) text = node.text
    else if (ts.isTemplateExpression(node)) text = node.head.text + node.templateSpans.map(s => '${}' + s.literal.text).join('')
    if (text != null) out.push({ file, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, text })
    if (!ts.isTemplateExpression(node)) ts.forEachChild(node, visit)
  }
  visit(source)
  return out
}

/**
 * A message is a literal with a space in it. Single-token literals like
 * `'--offline'` or `--profile=${}` are arguments core passes to kubo's own
 * command line, not words shown to a person.
 */
function cliWording (l: Literal): boolean {
  if (!/\s/.test(l.text)) return false
  return CLI_FLAG.test(l.text) || CLI_COMMAND.test(l.text)
}

describe('core messages', () => {
  test('the scan sees the sources and their literals (a scan that reads nothing would pass anything)', () => {
    assert.ok(files.includes('errors.ts') && files.length > 20, files.join(', '))
    const all = files.flatMap(literals)
    assert.ok(all.some(l => l.file === 'errors.ts' && l.text.includes('already exists')))
    assert.ok(all.some(l => l.text === '--offline'), "kubo's own flags are literals too, and are allowed")
    // The detector itself, on the wording it must catch and the wording it must let through.
    const probe = (text: string): boolean => cliWording({ file: 'probe', line: 0, text })
    assert.ok(probe('pass --force to unpin anyway'))
    assert.ok(probe('choose another --name or remove it first'))
    assert.ok(probe('${} needs a running daemon (start it with `citrate-ipfs daemon start`)'))
    assert.ok(probe('kubo was not found; run `citrate-ipfs install`'))
    assert.ok(!probe('another citrate-ipfs process (pid ${}) is starting the daemon'))
    assert.ok(!probe('--profile=${}'))
    assert.ok(!probe('block sizes do not add up: 3 -- 4'))
  })

  test('no string or template literal in core names a CLI flag or a citrate-ipfs command', () => {
    const offenders = files.flatMap(literals).filter(cliWording)
    assert.deepEqual(offenders.map(l => `${l.file}:${l.line}: ${l.text}`), [])
  })

  test('the messages of the errors that used to carry CLI wording now describe the situation', () => {
    assert.equal(new TargetExistsError('/m/qwen').message, '/m/qwen already exists')
    assert.match(new PinInUseError('bafy', ['a', 'b']).message, /^bafy backs registry model\(s\) a, b; unpinning it would leave them to garbage collection$/)
    assert.equal(new KuboTooOldError('/bin/ipfs', '0.20.0', '0.36.0').message, 'kubo at /bin/ipfs is version 0.20.0; citrate-ipfs needs 0.36.0 or newer')
    assert.equal(new DaemonNotRunningError().message, 'the kubo daemon is not running')
  })
})

describe('error codes', () => {
  /** Codes in the vocabulary that no core code raises yet, kept for callers that branch on them. */
  const RESERVED = ['DAG_INDEX_MISSING']

  const sources = files.map(f => readFileSync(join(SRC, f), 'utf8')).join('\n')
  /** Raised: a constructor's first argument (`super('X'`, `new FooError('X'`), or a status's `code: 'X'`. */
  const raised = (code: string): boolean => new RegExp(`(super|Error)\\('${code}'|code: '${code}'`).test(sources)

  test('every code in the vocabulary is raised somewhere in core, or listed as reserved', () => {
    const unraised = ERROR_CODES.filter(c => !raised(c))
    assert.deepEqual(unraised, RESERVED)
  })

  test('every code core raises is in the vocabulary', () => {
    const found = [...sources.matchAll(/(?:super|Error)\('([A-Z][A-Z0-9_]+)'|code: '([A-Z][A-Z0-9_]+)'/g)].map(m => m[1] ?? m[2] ?? '')
    const known = new Set<string>(ERROR_CODES)
    assert.ok(found.length > 30)
    assert.deepEqual([...new Set(found.filter(c => !known.has(c)))], [])
  })

  test('errors carry their code and serialize to {code, message}; anything else becomes one', () => {
    const e = new InvalidCidError('x', 'too short')
    assert.equal(e.code, 'INVALID_CID')
    assert.deepEqual(JSON.parse(JSON.stringify(e)), { code: 'INVALID_CID', message: '"x" is not a valid CID: too short' })
    assert.equal(toCitrateError(Object.assign(new Error('nope'), { code: 'ENOSPC' })).code, 'DISK_FULL')
    assert.equal(toCitrateError('boom').code, 'INTERNAL')
    assert.ok(toCitrateError(e) === e && e instanceof CitrateError)
  })
})
