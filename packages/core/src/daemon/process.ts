/** Process liveness and signalling, cross-platform. */
import { readFile } from 'node:fs/promises'
import { terminationSignals } from '../platform.ts'
import { sleep } from '../util/signals.ts'

export function isProcessAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * A kubo executable's name: `ipfs`, `ipfs.exe`, or a sidecar's `ipfs-<rust target triple>[.exe]`
 * (what Tauri's externalBin naming puts beside the app).
 */
export function isKuboCommandName (exe: string): boolean {
  const base = exe.split(/[\\/]/).at(-1) ?? ''
  return /^ipfs(-[a-z0-9_]+(-[a-z0-9_]+){2,3})?(\.exe)?$/i.test(base)
}

/**
 * Guards against pid reuse: on Linux the pid must still be an `ipfs` process.
 * Elsewhere liveness is all we can cheaply know.
 */
export async function isKuboProcess (pid: number): Promise<boolean> {
  if (!isProcessAlive(pid)) return false
  if (process.platform !== 'linux') return true
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8')
    const [exe = '', ...args] = cmdline.split('\0')
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    if (/\) Z /.test(stat)) return false // a zombie has exited
    return isKuboCommandName(exe) && args.includes('daemon')
  } catch {
    return false
  }
}

export async function waitForExit (pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!(await isKuboProcess(pid))) return true
    await sleep(100)
  }
  return !(await isKuboProcess(pid))
}

/** Escalates SIGTERM → SIGKILL; returns the signal that ended it (or null if it was gone). */
export async function terminate (pid: number, graceMs: number): Promise<NodeJS.Signals | null> {
  const { graceful, force } = terminationSignals()
  if (!(await isKuboProcess(pid))) return null
  if (graceful != null) {
    try { process.kill(pid, graceful) } catch { /* already gone */ }
    if (await waitForExit(pid, graceMs)) return graceful
  }
  try { process.kill(pid, force) } catch { /* already gone */ }
  await waitForExit(pid, 5000)
  return force
}
