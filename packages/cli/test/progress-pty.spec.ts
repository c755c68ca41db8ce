/**
 * The pull's progress display in a real pseudo-terminal (test/helpers/pty-run.py),
 * read back through a terminal emulator (@xterm/headless): at 80 columns after
 * 10 s the screen holds only the lines the display meant to leave and one live
 * line that fits; Ctrl-C says where it paused and exits 130; the same command
 * at 200 columns resumes and ends on a clean last line. Sources are the test
 * kubo's gateway behind the WAN emulator: one link capped at 3 MB/s and one
 * that accepts and never answers. Without a terminal: plain lines, no escapes.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import xtermHeadless from '@xterm/headless'
import { ipfs, makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'
import { chachaBytes } from '../../core/test/helpers/content.ts'
import { startWan, type Wan } from '../../core/test/helpers/wan.ts'
import { cliMain, runCli } from './helpers/cli.ts'

const { Terminal } = xtermHeadless
const ptyRun = fileURLToPath(new URL('./helpers/pty-run.py', import.meta.url))

/** 48 MiB at 3 MB/s: about 17 s, so a pull is still running at 10 s. */
const SIZE = 48 * 1024 * 1024
const RATE = 3e6

let h: TestHome
let wan: Wan
let cid: string
before(async () => {
  // The gateway port is known before kubo starts: the proxy is put in front of it first, and named in the config.
  h = await makeTestHome()
  wan = await startWan(`http://127.0.0.1:${h.gatewayPort}`, [
    { name: 'slow', rttMs: 10, totalRate: RATE },
    { name: 'silent', noFirstByte: true }
  ])
  // The slow link first; the home's dead fallback becomes the silent link (asked, never answers).
  const text = (await readFile(h.config.paths.configFile, 'utf8')).replace(/^fallback_gateway = .*$/m, `fallback_gateway = "${wan.url('silent')}"`)
  await writeFile(h.config.paths.configFile, `${text}external_gateway = "${wan.url('slow')}"\nauto_pin = false\n`)
  await h.reload()
  await h.manager.start()
  cid = (await ipfs(h.config.paths.ipfsRepo, ['add', '-Q', '--pin=false', '--raw-leaves'], chachaBytes('pty-progress', SIZE))).toString().trim()
})
after(async () => {
  await wan?.stop()
  await h?.cleanup()
})

interface PtyRun {
  /** The screen as rows of text (scrollback included), without trailing blank rows. */
  screen: () => Promise<Screen>
  ctrlC: () => void
  exit: Promise<number>
}
/** `wrapped[i]`: row i continues row i - 1 (the terminal wrapped a line too long for it). */
interface Screen { rows: string[], wrapped: boolean[], cols: number }

/** `citrate-ipfs …args` in a COLS×24 pseudo-terminal, its output fed to a terminal emulator as it comes. */
function inPty (cols: number, args: string[]): PtyRun {
  const term = new Terminal({ cols, rows: 24, scrollback: 1000, allowProposedApi: true })
  const child = spawn('python3', [ptyRun, String(cols), '24', '--', process.execPath, cliMain, ...args], {
    env: { ...h.env, TERM: 'xterm-256color', CITRATE_IPFS_PUBLIC_GATEWAYS: '' },
    stdio: ['pipe', 'pipe', 'inherit']
  })
  let pending = Promise.resolve()
  child.stdout.on('data', (d: Buffer) => { pending = pending.then(() => new Promise<void>(resolve => { term.write(d, resolve) })) })
  const exit = new Promise<number>(resolve => { child.on('exit', (code) => { resolve(code ?? -1) }) })
  return {
    ctrlC: () => { child.stdin.write('ctrl-c\n') },
    exit: exit.then(async (code) => { await pending; return code }),
    screen: async () => {
      await pending
      const b = term.buffer.active
      const rows: string[] = []
      const wrapped: boolean[] = []
      for (let i = 0; i < b.length; i++) {
        const line = b.getLine(i)
        if (line == null) continue
        wrapped.push(line.isWrapped)
        rows.push(line.translateToString(true))
      }
      while (rows.length > 0 && rows.at(-1) === '') { rows.pop(); wrapped.pop() }
      return { rows, wrapped, cols }
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** Lines printed to stay (above the live line, or the result after it); any other row is a stale one. */
const KEPT = /^(citrate-ipfs: warning: |resuming: |sources: |pulled | {2}\w+: | {2}dropped source )/
const LIVE = /^(pulling \S+ {2})?(\[[=> ]+\] )?\d+(\.\d)?% [\d.]+(\/| \w+\/)[\d.]+ [KMG]?B( · .*)?$/

/**
 * Row `at` is the display's own (its live line or its last line): one row, not
 * wrapped, narrower than the terminal; every row above it is a kept line or the
 * terminal's wrapping of one (a long warning is printed whole), never a stale
 * copy of the live line.
 */
function assertDisplay (s: Screen, at: number, kept: RegExp = KEPT): void {
  const all = s.rows.map((r, i) => `${s.wrapped[i] === true ? '+' : ' '}|${r}`).join('\n')
  const row = s.rows[at] ?? ''
  assert.ok(s.wrapped[at] !== true && s.wrapped[at + 1] !== true, `the display's row did not wrap:\n${all}`)
  assert.ok([...row].length < s.cols, `the display's row fits ${s.cols} columns: ${JSON.stringify(row)}`)
  for (let i = 0; i < at; i++) {
    if (s.wrapped[i] === true) continue
    assert.match(s.rows[i] ?? '', kept, `row ${i} is a kept line, not a stale one:\n${all}`)
  }
}

describe('pull progress in a terminal', () => {
  test('80 columns: after 10 s one live line that fits, no stale rows; Ctrl-C pauses with exit 130; 200 columns: the rerun resumes and ends clean', { timeout: 180_000 }, async () => {
    const run = inPty(80, ['pull', cid, '--name', 'pty-model', '--source', 'gateway'])
    await sleep(10_000)
    const s = await run.screen()
    const live = s.rows.at(-1) ?? ''
    assertDisplay(s, s.rows.length - 1)
    assert.match(live, LIVE, s.rows.join('\n'))
    assert.match(live, / · [\d.]+ [KM]B\/s · \d+s left/, `speed and time left are visible at 80 columns: ${live}`)
    // The 5 s window: about the link's 3 MB/s, not an average since the start.
    const speed = Number(/ · ([\d.]+) MB\/s/.exec(live)?.[1])
    assert.ok(speed > 1.0 && speed < 4.5, `speed near 3 MB/s: ${live}`)

    run.ctrlC()
    assert.equal(await run.exit, 130)
    const paused = await run.screen()
    const last = paused.rows.at(-1) ?? ''
    assertDisplay(paused, paused.rows.length - 1)
    assert.match(last, /^paused at \d+(\.\d)?% \([\d.]+\/[\d.]+ MB verified\) — run the same command to resume$/, paused.rows.join('\n'))
    assert.ok(!paused.rows.some(r => /Failed|cancelled|error:/.test(r)), paused.rows.join('\n'))
    const pausedAt = Number(/^paused at ([\d.]+)%/.exec(last)?.[1])
    assert.ok(pausedAt > 20 && pausedAt < 100, `paused part-way: ${pausedAt}%`)

    const again = inPty(200, ['pull', cid, '--name', 'pty-model', '--source', 'gateway'])
    await sleep(2000)
    const mid = await again.screen()
    assertDisplay(mid, mid.rows.length - 1)
    assert.match(mid.rows.at(-1) ?? '', LIVE, mid.rows.join('\n'))
    assert.ok(mid.rows.some(r => /^resuming: [\d.]+ MB already verified on disk$/.test(r)), mid.rows.join('\n'))
    assert.equal(await again.exit, 0)
    const end = await again.screen()
    const done = end.rows.findIndex(r => /^100% [\d.]+ MB in \d+s · [\d.]+ MB\/s average$/.test(r))
    assert.ok(done >= 0, end.rows.join('\n'))
    assertDisplay(end, done)
    assert.match(end.rows[done + 1] ?? '', /^pulled \S+ \(file, [\d.]+ MB, every block verified\) as pty-model$/)
    for (let i = done + 1; i < end.rows.length; i++) if (end.wrapped[i] !== true) assert.match(end.rows[i] ?? '', KEPT, end.rows.join('\n'))
  })

  test('connecting to a source that never answers: elapsed time and the source asked; Ctrl-C with nothing verified', { timeout: 60_000 }, async () => {
    const other = (await ipfs(h.config.paths.ipfsRepo, ['add', '-Q', '--pin=false'], chachaBytes('pty-silent', 4096))).toString().trim()
    // Only the silent link: the config's external gateway is put aside for this run.
    const run = inPty(80, ['pull', other, '--name', 'pty-silent', '--source', 'gateway', '--config', await silentOnlyConfig()])
    await sleep(4000)
    const s = await run.screen()
    assertDisplay(s, s.rows.length - 1)
    assert.match(s.rows.at(-1) ?? '', new RegExp(`^(pulling \\S+ {2})?connecting · [1-6]s · asking ${wan.url('silent').replace(/[.]/g, '\\.')}$`), s.rows.join('\n'))
    run.ctrlC()
    assert.equal(await run.exit, 130)
    assert.equal((await run.screen()).rows.at(-1), 'paused at 0% (nothing verified yet) — run the same command to resume')
  })

  test('without a terminal: plain progress lines (no escapes, no carriage returns); --json stays events only', { timeout: 60_000 }, async () => {
    const small = (await ipfs(h.config.paths.ipfsRepo, ['add', '-Q', '--pin=false', '--raw-leaves'], chachaBytes('pty-plain', 6 * 1024 * 1024))).toString().trim()
    const r = await runCli(h, ['pull', small, '--name', 'plain-model', '--source', 'gateway'], { CITRATE_IPFS_PUBLIC_GATEWAYS: '' })
    assert.equal(r.code, 0, r.stderr)
    assert.ok(!r.stderr.includes('\r') && !r.stderr.includes('\u001b'), `plain lines: ${JSON.stringify(r.stderr)}`)
    assert.match(r.stderr, /^pulling \S+ {2}connecting · \d+s/m)
    assert.match(r.stderr, /^pulling \S+ {2}\d+(\.\d)?% [\d.]+( \w+)?\/[\d.]+ MB/m)
    const json = await runCli(h, ['pull', small, '--name', 'plain-json', '--source', 'gateway', '--json'], { CITRATE_IPFS_PUBLIC_GATEWAYS: '' })
    assert.equal(json.code, 0, json.stderr)
    assert.equal(json.stderr, '')
    for (const line of json.stdout.trim().split('\n')) JSON.parse(line)
  })
})

/** A copy of the home's config whose only gateway is the silent link (and no daemon). */
async function silentOnlyConfig (): Promise<string> {
  const file = join(h.home, 'silent.toml')
  const text = (await readFile(h.config.paths.configFile, 'utf8')).replace(/^external_gateway = .*$/m, '')
  await writeFile(file, text)
  return file
}
