/**
 * `citrate-ipfs daemon logs -f` on a real kubo's log: the last lines, then
 * new ones as they are written, across a rotation, until Ctrl-C (exit 0).
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { appendFile, rename, writeFile } from 'node:fs/promises'
import { makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'
import { cliMain } from './helpers/cli.ts'

const homes: TestHome[] = []
after(async () => { for (const h of homes) await h.cleanup() })

describe('daemon logs -f', () => {
  test('follows kubo\'s log, including after it is rotated, until SIGINT; exit 0', async () => {
    const h = await makeTestHome()
    homes.push(h)
    await h.manager.start()
    const log = h.manager.logPath
    const child = spawn(process.execPath, [cliMain, 'daemon', 'logs', '-f', '-n', '5'], { env: h.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    const waiters: Array<{ re: RegExp, resolve: () => void }> = []
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8')
      for (const w of waiters.splice(0)) if (w.re.test(out)) w.resolve(); else waiters.push(w)
    })
    child.stderr.on('data', (d: Buffer) => { err += d.toString('utf8') })
    const seen = async (re: RegExp): Promise<void> => { if (!re.test(out)) await new Promise<void>(resolve => waiters.push({ re, resolve })) }
    const exited = new Promise<number | null>(resolve => child.on('exit', code => { resolve(code) }))

    await seen(/Daemon is ready/) // kubo's own last start-up line, from the tail
    await appendFile(log, 'citrate-test: a line written while following\n')
    await seen(/a line written while following\n/)
    await rename(log, `${log}.1`)
    await writeFile(log, 'citrate-test: first line of the rotated log\n')
    await seen(/first line of the rotated log\n/)
    child.kill('SIGINT')
    assert.equal(await exited, 0, err)
    assert.equal(err, '')
    assert.equal(out.match(/Daemon is ready/g)?.length, 1, 'the tail once, no line repeated')
  })
})
