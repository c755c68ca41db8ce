/**
 * The kubo daemon manager: status, start (or adopt), stop and logs for the
 * daemon on `$CITRATE_HOME/ipfs`. It only ever acts on a daemon whose peer id is
 * the one recorded in our repo, so it never touches someone else's kubo.
 *
 * A daemon it starts has its RPC locked with the install's secret
 * (rpc-secret.ts); every RPC client it hands out carries that secret. A daemon
 * on our repo that someone else started without it is adopted all the same,
 * and its status says its RPC is unprotected.
 */
import { spawn } from 'node:child_process'
import { open, readFile, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { LoadedConfig } from '../config/load.ts'
import { ensureLayout } from '../config/paths.ts'
import {
  type CitrateError, DaemonDisabledError, DaemonNotRunningError, DaemonPortInUseError, DaemonStartError, DaemonStartTimeoutError,
  DaemonStopError, KuboRpcError, RepoLockedError, toCitrateError
} from '../errors.ts'
import { writeFileAtomic } from '../util/atomic-write.ts'
import { tailFile } from '../util/log-tail.ts'
import { isPortFree, suggestFreePort } from '../util/ports.ts'
import { sleep } from '../util/signals.ts'
import { findKubo, locateKubo, type KuboBinary } from './binary.ts'
import { isKuboProcess, isProcessAlive, terminate, waitForExit } from './process.ts'
import { applyRepoSettings, initRepo, kuboEnv, readRepoConfig, repoExists, repoPeerId } from './repo.ts'
import { KuboRpc, multiaddrToHttpUrl } from './rpc.ts'
import { loadOrCreateRpcSecret, readRpcSecret } from './rpc-secret.ts'
import type { DaemonProgressEvent, DaemonRecord, DaemonStartResult, DaemonStatus, DaemonStopResult } from './types.ts'

export interface DaemonManagerOptions {
  config: LoadedConfig
  env?: NodeJS.ProcessEnv
  /** How long a status probe of the API may take; default 3 s. */
  probeTimeoutMs?: number
}

export interface StartOptions {
  signal?: AbortSignal
  onProgress?: (event: DaemonProgressEvent) => void
}

const LOG_ROTATE_BYTES = 8 * 1024 * 1024

type RunningStatus = Extract<DaemonStatus, { state: 'Running' }>

/** What answers on the address in `$IPFS_PATH/api`. */
type Probe =
  | { kind: 'running', status: RunningStatus, rpc: KuboRpc }
  /** A kubo that refuses our secret (403): locked with Authorizations that are not ours. */
  | { kind: 'refused', apiUrl: string }
  | undefined

export class DaemonManager {
  private readonly cfg: LoadedConfig
  private readonly env: NodeJS.ProcessEnv
  private readonly probeTimeoutMs: number

  constructor (opts: DaemonManagerOptions) {
    this.cfg = opts.config
    this.env = opts.env ?? process.env
    this.probeTimeoutMs = opts.probeTimeoutMs ?? 3000
  }

  get repo (): string { return this.cfg.paths.ipfsRepo }
  get logPath (): string { return this.cfg.paths.daemonLog }

  /** Finds kubo per the config (daemon_path, then CITRATE_HOME/bin, then PATH). */
  findBinary (): Promise<KuboBinary> {
    return findKubo({ daemonPath: this.cfg.ipfs.daemon_path, installedPath: this.cfg.paths.installedKubo, env: this.env, versionCache: join(this.cfg.paths.run, 'kubo-version.json') })
  }

  async status (opts: { signal?: AbortSignal } = {}): Promise<DaemonStatus> {
    const probe = await this.probe(opts.signal)
    if (probe?.kind === 'running') return probe.status
    if (probe?.kind === 'refused') return { state: 'Error', code: 'KUBO_RPC_ERROR', message: this.refusedError(probe.apiUrl).message, logTail: '' }
    const record = await this.readRecord()
    if (record != null) {
      if (await isKuboProcess(record.pid)) return { state: 'Starting', pid: record.pid }
      const logTail = await tailFile(record.logPath, 20, record.logOffset)
      return { state: 'Error', code: 'DAEMON_DIED', message: `kubo (pid ${record.pid}) is no longer running; it exited without being stopped`, logTail }
    }
    try {
      const bin = await this.findBinary()
      if (await repoExists(this.repo)) await readRepoConfig(this.repo)
      return { state: 'Stopped', kuboVersion: bin.version, kuboPath: bin.path }
    } catch (err) {
      const e = toCitrateError(err)
      if (e.code === 'KUBO_NOT_INSTALLED') return { state: 'NotInstalled', message: e.message }
      return { state: 'Error', code: e.code, message: e.message, logTail: '' }
    }
  }

  /**
   * The RPC client of our running daemon.
   * @throws DaemonNotRunningError
   */
  async rpc (signal?: AbortSignal): Promise<KuboRpc> {
    const running = await this.runningDaemon(signal)
    if (running == null) throw new DaemonNotRunningError()
    return running.rpc
  }

  /** Our running daemon's status and its RPC client (carrying the secret), or undefined when none runs. */
  async runningDaemon (signal?: AbortSignal): Promise<{ status: RunningStatus, rpc: KuboRpc } | undefined> {
    const probe = await this.probe(signal)
    if (probe?.kind === 'refused') throw this.refusedError(probe.apiUrl)
    return probe
  }

  async start (opts: StartOptions = {}): Promise<DaemonStartResult> {
    const already = await this.runningDaemon(opts.signal).then(r => r?.status)
    if (already != null) {
      opts.onProgress?.({ type: 'citrate:daemon:adopted', apiUrl: already.apiUrl })
      return { status: already, adopted: true }
    }
    if (!this.cfg.ipfs.daemon_enabled) throw new DaemonDisabledError(this.cfg.paths.configFile)
    await ensureLayout(this.cfg.paths)
    const release = await this.acquireStartLock(opts.signal)
    try {
      // Another process may have started it while we waited for the lock.
      const raced = await this.runningDaemon(opts.signal).then(r => r?.status)
      if (raced != null) {
        opts.onProgress?.({ type: 'citrate:daemon:adopted', apiUrl: raced.apiUrl })
        return { status: raced, adopted: true }
      }
      const record = await this.readRecord()
      if (record != null && await isKuboProcess(record.pid)) {
        // Ours, started earlier but not (yet) answering: wait for it rather than start a second.
        return { status: await this.waitUntilReady(record, undefined, opts), adopted: true }
      }
      const bin = await this.findBinary()
      if (!(await repoExists(this.repo))) {
        opts.onProgress?.({ type: 'citrate:daemon:init', repo: this.repo })
        await initRepo(bin.path, this.repo, this.cfg.ipfs.init_profiles, this.env)
      }
      // Made once per install, under the start lock; applied to a repo made before the RPC was locked as well.
      const secret = await loadOrCreateRpcSecret(this.cfg.paths.rpcSecret)
      await applyRepoSettings(this.repo, this.cfg.ipfs, secret)
      await this.checkPorts()
      return { status: await this.spawnDaemon(bin, opts), adopted: false }
    } finally {
      await release()
    }
  }

  async stop (opts: { signal?: AbortSignal } = {}): Promise<DaemonStopResult> {
    const graceMs = this.cfg.ipfs.stop_timeout_seconds * 1000
    const probe = await this.probe(opts.signal)
    const running = probe?.kind === 'running' ? probe : undefined
    const record = await this.readRecord()
    const pid = running?.status.pid ?? record?.pid
    if (running == null) {
      if (record != null && await isKuboProcess(record.pid)) {
        // Started by us but not answering (still starting, or hung): signals only.
        const sig = await terminate(record.pid, graceMs)
        await this.clearRecord()
        return { wasRunning: true, method: sig === 'SIGKILL' ? 'SIGKILL' : 'SIGTERM' }
      }
      await this.clearRecord()
      return { wasRunning: false }
    }
    try {
      await running.rpc.json('shutdown', {}, { timeoutMs: 5000, signal: opts.signal })
    } catch {
      // Shutdown can close the connection before answering; we judge by the outcome below.
    }
    let method: DaemonStopResult['method'] = 'rpc'
    const nodeClosed = await this.waitUntilApiGone(graceMs)
    if (pid != null) {
      // kubo's RPC shutdown closes the node, but with --enable-gc its process then
      // waits for a signal (the GC loop watches the request context, which only a
      // signal cancels). Once the node is closed SIGTERM merely ends that wait, so
      // it still counts as a graceful RPC stop.
      if (!(await waitForExit(pid, nodeClosed ? 1000 : 0))) {
        const sig = await terminate(pid, nodeClosed ? 5000 : graceMs)
        if (!nodeClosed || sig === 'SIGKILL') method = sig === 'SIGKILL' ? 'SIGKILL' : 'SIGTERM'
      }
    } else if (!nodeClosed) {
      throw new DaemonStopError(`the kubo daemon on ${this.repo} did not stop within ${graceMs / 1000} s and its process id is unknown; stop it by hand`)
    }
    await this.clearRecord()
    return { wasRunning: true, method }
  }

  /** The last lines of kubo's log. */
  logs (lines = 50): Promise<string> {
    return tailFile(this.logPath, lines)
  }

  /**
   * Who answers on the address in `$IPFS_PATH/api`: our daemon only if it has our
   * repo's peer id. Calls carry our secret; one call without it tells whether
   * the RPC is locked (kubo refuses every unauthenticated call then, `version`
   * included).
   */
  private async probe (signal?: AbortSignal): Promise<Probe> {
    let apiAddr: string
    try {
      apiAddr = (await readFile(join(this.repo, 'api'), 'utf8')).trim()
    } catch {
      return undefined
    }
    const apiUrl = multiaddrToHttpUrl(apiAddr)
    if (apiUrl == null) return undefined
    const rpc = new KuboRpc(apiUrl, { secret: await readRpcSecret(this.cfg.paths.rpcSecret).catch(() => undefined) })
    try {
      const id = await rpc.json<{ ID: string, Addresses: string[] | null, AgentVersion: string }>('id', {}, { timeoutMs: this.probeTimeoutMs, signal })
      const expected = await repoPeerId(this.repo)
      if (expected == null || id.ID !== expected) return undefined
      const [gateways, rpcProtected] = await Promise.all([
        rpc.json<{ Value: string }>('config', { arg: 'Addresses.Gateway' }, { timeoutMs: this.probeTimeoutMs, signal }).catch(() => undefined),
        refusesUnauthenticated(apiUrl, this.probeTimeoutMs, signal)
      ])
      const gwAddr = Array.isArray(gateways?.Value) ? gateways.Value[0] : gateways?.Value
      const record = await this.readRecord()
      const status: RunningStatus = {
        state: 'Running',
        peerId: id.ID,
        addresses: id.Addresses ?? [],
        apiUrl,
        gatewayUrl: (gwAddr != null ? multiaddrToHttpUrl(gwAddr) : undefined) ?? `http://127.0.0.1:${this.cfg.ipfs.gateway_port}`,
        kuboVersion: id.AgentVersion.replace(/^kubo\//, '').replace(/\/.*$/, ''),
        rpcProtected,
        ...(record != null && isProcessAlive(record.pid) ? { pid: record.pid } : {})
      }
      return { kind: 'running', status, rpc }
    } catch (err) {
      if (signal?.aborted === true) throw toCitrateError(err)
      // kubo's refusal names its API.Authorizations; any other 403 on that port is not a kubo of ours (stale api file).
      if (err instanceof KuboRpcError && err.status === 403 && /Authorizations/.test(err.message)) return { kind: 'refused', apiUrl }
      return undefined
    }
  }

  private refusedError (apiUrl: string): KuboRpcError {
    return new KuboRpcError(`the kubo daemon at ${apiUrl} (the address in ${join(this.repo, 'api')}) refuses citrate-ipfs's RPC secret (${this.cfg.paths.rpcSecret}): ` +
      'it runs with API.Authorizations that are not ours. Stop that daemon; citrate-ipfs then starts it with its own', 403)
  }

  private async checkPorts (): Promise<void> {
    const { api_port: api, gateway_port: gw } = this.cfg.ipfs
    for (const [role, port] of [['api', api], ['gateway', gw]] as const) {
      if (!(await isPortFree(port))) {
        throw new DaemonPortInUseError(role, port, await suggestFreePort(port, [api, gw]))
      }
    }
  }

  private async spawnDaemon (bin: KuboBinary, opts: StartOptions): Promise<Extract<DaemonStatus, { state: 'Running' }>> {
    await this.rotateLog()
    const logOffset = await fileSize(this.logPath)
    const log = await open(this.logPath, 'a')
    await log.write(`\n=== citrate-ipfs: starting kubo ${bin.version} (${bin.path}) at ${new Date().toISOString()} ===\n`)
    const args = ['daemon', '--enable-gc', '--migrate=true']
    if (this.cfg.ipfs.offline) args.push('--offline')
    let child
    try {
      // Detached with its output in a file: the daemon outlives this process,
      // and nothing depends on anyone reading a pipe.
      child = spawn(bin.path, args, {
        env: kuboEnv(this.repo, this.env),
        detached: true,
        stdio: ['ignore', log.fd, log.fd],
        windowsHide: true
      })
    } finally {
      await log.close()
    }
    const pid = child.pid
    if (pid == null) throw new DaemonStartError(`could not start ${bin.path}`)
    let exited: { code: number | null, signal: NodeJS.Signals | null } | undefined
    child.once('exit', (code, signal) => { exited = { code, signal } })
    child.unref()
    const record: DaemonRecord = { pid, binary: bin.path, repo: this.repo, startedAt: new Date().toISOString(), logPath: this.logPath, logOffset }
    await writeFileAtomic(this.cfg.paths.daemonState, JSON.stringify(record, null, 2))
    opts.onProgress?.({ type: 'citrate:daemon:spawn', pid, logPath: this.logPath })
    return await this.waitUntilReady(record, () => exited, opts)
  }

  private async waitUntilReady (record: DaemonRecord, exitedOf: (() => { code: number | null } | undefined) | undefined, opts: StartOptions): Promise<Extract<DaemonStatus, { state: 'Running' }>> {
    const started = Date.now()
    const timeoutMs = this.cfg.ipfs.start_timeout_seconds * 1000
    while (true) {
      const probe = await this.probe(opts.signal)
      if (probe?.kind === 'running') {
        opts.onProgress?.({ type: 'citrate:daemon:ready', apiUrl: probe.status.apiUrl, elapsedMs: Date.now() - started })
        return probe.status
      }
      if (probe?.kind === 'refused') {
        // Up, but locked against us: waiting would not change that.
        await terminate(record.pid, 5000)
        await this.clearRecord()
        throw this.refusedError(probe.apiUrl)
      }
      const gone = exitedOf?.() != null || !(await isKuboProcess(record.pid))
      if (gone) {
        await sleep(50) // let the last log lines land
        const tail = await tailFile(record.logPath, 30, record.logOffset)
        await this.clearRecord()
        throw this.classifyStartFailure(tail)
      }
      if (opts.signal?.aborted === true || Date.now() - started > timeoutMs) {
        await terminate(record.pid, 5000)
        await this.clearRecord()
        if (opts.signal?.aborted === true) throw toCitrateError(opts.signal.reason)
        throw new DaemonStartTimeoutError(this.cfg.ipfs.start_timeout_seconds, record.logPath)
      }
      await sleep(150)
    }
  }

  private classifyStartFailure (tail: string): CitrateError {
    if (/someone else has the lock|repo\.lock|lock .*: resource temporarily unavailable/i.test(tail)) return new RepoLockedError(this.repo)
    const port = /listen tcp4? 127\.0\.0\.1:(\d+): bind: address already in use/.exec(tail)
    if (port?.[1] != null) {
      const p = Number(port[1])
      return new DaemonPortInUseError(p === this.cfg.ipfs.gateway_port ? 'gateway' : 'api', p)
    }
    const errLine = tail.split('\n').reverse().find(l => /^Error:/i.test(l.trim()))
    return new DaemonStartError(`kubo exited during start${errLine != null ? `: ${errLine.trim().replace(/^Error:\s*/i, '')}` : ''} (log: ${this.logPath})`, tail)
  }

  private async waitUntilApiGone (timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if ((await this.probe()) == null) return true
      await sleep(150)
    }
    return false
  }

  private async readRecord (): Promise<DaemonRecord | undefined> {
    try {
      const r = JSON.parse(await readFile(this.cfg.paths.daemonState, 'utf8')) as DaemonRecord
      return typeof r.pid === 'number' && r.repo === this.repo ? r : undefined
    } catch {
      return undefined
    }
  }

  private async clearRecord (): Promise<void> {
    await rm(this.cfg.paths.daemonState, { force: true })
  }

  private async rotateLog (): Promise<void> {
    if (await fileSize(this.logPath) > LOG_ROTATE_BYTES) {
      await rename(this.logPath, `${this.logPath}.1`).catch(() => {})
    }
  }

  /**
   * Serialises `start` across processes with an exclusive lock file, so two
   * commands started together cannot launch two daemons. A lock left by a dead
   * process is taken over.
   */
  private async acquireStartLock (signal?: AbortSignal): Promise<() => Promise<void>> {
    const lockPath = join(this.cfg.paths.run, 'start.lock')
    const deadline = Date.now() + (this.cfg.ipfs.start_timeout_seconds + 10) * 1000
    while (true) {
      try {
        const fh = await open(lockPath, 'wx')
        await fh.writeFile(String(process.pid))
        await fh.close()
        return async () => { await rm(lockPath, { force: true }) }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      const holder = Number.parseInt(await readFile(lockPath, 'utf8').catch(() => ''), 10)
      // An empty lock is one being written right now, unless it is old.
      const stale = Number.isInteger(holder) ? !isProcessAlive(holder) : Date.now() - (await stat(lockPath).catch(() => ({ mtimeMs: 0 }))).mtimeMs > 5000
      if (stale) {
        await rm(lockPath, { force: true })
        continue
      }
      if (Date.now() > deadline) throw new DaemonStartError(`another citrate-ipfs process${Number.isInteger(holder) ? ` (pid ${holder})` : ''} is starting the daemon and has not finished`)
      await sleep(200, signal)
    }
  }
}

/**
 * Whether kubo's RPC refuses a call without credentials: true on 401/403; false
 * when it answers (no Authorizations: open to every local user) or cannot be
 * asked (never claim a protection that was not seen).
 */
async function refusesUnauthenticated (apiUrl: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  try {
    await new KuboRpc(apiUrl).json('version', {}, { timeoutMs, signal })
    return false
  } catch (err) {
    return err instanceof KuboRpcError && (err.status === 401 || err.status === 403)
  }
}

async function fileSize (path: string): Promise<number> {
  try {
    return (await stat(path)).size
  } catch {
    return 0
  }
}

/** Whether a locate finds any kubo, without running it. */
export async function isKuboInstalled (cfg: LoadedConfig, env?: NodeJS.ProcessEnv): Promise<boolean> {
  return (await locateKubo({ daemonPath: cfg.ipfs.daemon_path, installedPath: cfg.paths.installedKubo, env })) != null
}
