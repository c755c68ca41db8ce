#!/usr/bin/env node
// The UI tests drive Debian's Chromium through playwright-core (Playwright's own
// browser download cannot work offline). Installs it with apt-get when missing.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const path = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
if (existsSync(path)) {
  process.stdout.write(`chromium: ${path}\n`)
} else if (process.platform === 'linux' && typeof process.getuid === 'function' && process.getuid() === 0) {
  process.stderr.write('installing Debian chromium for the UI tests (apt-get)\n')
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env })
  process.stdout.write(`chromium: ${path}\n`)
} else {
  process.stderr.write(`chromium not found at ${path}: install Debian's chromium package (or set CHROMIUM_PATH) for the UI tests\n`)
  process.exitCode = 1
}
