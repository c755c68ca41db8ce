/** Runs the built CLI (`packages/cli/dist/main.js`) as a child process against a test home. */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { TestHome } from '../../../core/test/helpers/kubo.ts'

export const cliMain = fileURLToPath(new URL('../../dist/main.js', import.meta.url))

export interface Run { code: number, stdout: string, stderr: string }

/** `citrate-ipfs …args` with the home's environment plus `env`; resolves with the exit code and both streams. */
export function runCli (h: TestHome, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise(resolve => {
    execFile(process.execPath, [cliMain, ...args], { env: { ...h.env, ...env }, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err == null ? 0 : (typeof err.code === 'number' ? err.code : 1), stdout, stderr })
    })
  })
}
