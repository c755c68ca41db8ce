// The one way the test tools build a Go binary: `go build -trimpath` into a
// temp file beside the target, renamed into place only when the build
// succeeded, so an interrupted build never leaves a half binary in the cache.
import { execFileSync } from 'node:child_process'
import { mkdirSync, renameSync, rmSync } from 'node:fs'
import { dirname } from 'node:path'

/** Builds Go package `pkg` of the module in `cwd` to `target`; `env` is added to the build's environment. */
export function goBuild ({ cwd, pkg, target, env = {} }) {
  mkdirSync(dirname(target), { recursive: true })
  const tmp = `${target}.tmp-${process.pid}`
  try {
    execFileSync('go', ['build', '-trimpath', '-o', tmp, pkg], {
      cwd,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, CGO_ENABLED: process.env.CGO_ENABLED ?? '0', ...env }
    })
    renameSync(tmp, target)
  } finally {
    rmSync(tmp, { force: true })
  }
}
