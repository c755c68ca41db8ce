/**
 * The downloads the service runs: one per registry id, each a core pull whose
 * sampled progress is pushed to clients as `download-progress` events. Pause,
 * resume and cancel act on the pull handle.
 *
 * The bandwidth cap is the service's, not each download's: one limiter that
 * every download of the service reads through, so `max_download_mbps` (or
 * `ipfs_set_download_limit`) caps their total, running and future ones alike.
 * Until the command sets it, each new download takes the config's value as it
 * is on disk then (the config is re-read per call).
 *
 * A download that ended (complete, failed or cancelled) stays listed until a
 * client dismisses it, so every window shows the same rows and a reload does
 * not bring a dismissed one back; its arguments are kept so Retry can start it
 * again as it was asked for.
 */
import { checkPullInput, DownloadLimiter, InvalidArgumentError, startPull, toCitrateError, type LoadedConfig, type PullHandle } from '@citrate-ipfs/core'
import type { CommandArgs, DownloadView, ServiceEvent } from '@citrate-ipfs/contract'
import { ServiceError } from './errors.ts'

interface Job {
  view: DownloadView
  handle: PullHandle
  args: CommandArgs<'ipfs_download_model'>
  /** Set by ipfs_cancel_download: the pull's ABORTED is then the user's choice, not a failure. */
  cancelled: boolean
}

export class Downloads {
  private readonly jobs = new Map<string, Job>()
  private readonly emit: (e: ServiceEvent) => void
  /** Aborted when the service stops: pulls end but keep their verified data for a later resume. */
  private readonly stopping = new AbortController()
  private readonly limiter = new DownloadLimiter(0)
  /** True once ipfs_set_download_limit set the cap: the config's value no longer replaces it. */
  private limitSet = false

  constructor (emit: (e: ServiceEvent) => void) {
    this.emit = emit
  }

  start (config: LoadedConfig, args: CommandArgs<'ipfs_download_model'>, env: NodeJS.ProcessEnv): DownloadView {
    const { id } = checkPullInput(args.cid, args.name, args.filename)
    const running = this.jobs.get(id)
    if (running != null && running.view.model == null && running.view.error == null) return running.view
    const view: DownloadView = {
      id,
      cid: args.cid.trim(),
      progress: { cid: args.cid.trim(), total_bytes: 0, downloaded_bytes: 0, progress_percent: 0, speed_mbps: 0, eta_seconds: null, status: 'Queued', source: null }
    }
    if (!this.limitSet) this.limiter.setRate(config.ipfs.max_download_mbps)
    const handle = startPull({
      cid: args.cid,
      config,
      limiter: this.limiter,
      // Without a name the registry id comes from the content (a GGUF's general.name): view.model.id then differs from the job's id.
      ...(args.name != null ? { name: args.name } : {}),
      ...(args.filename != null ? { filename: args.filename } : {}),
      ...(args.kind != null ? { kind: args.kind } : {}),
      ...(args.source != null ? { source: args.source } : {}),
      env,
      signal: this.stopping.signal,
      onProgress: (e) => {
        if (e.type !== 'citrate:pull:progress') return
        view.progress = e.progress
        this.emit({ event: 'download-progress', data: { ...view } })
      }
    })
    const job: Job = { view, handle, args, cancelled: false }
    this.jobs.set(id, job)
    handle.result.then((r) => {
      view.model = r.entry
      if (r.skippedSymlinks.length > 0) view.skippedSymlinks = r.skippedSymlinks
      view.progress = { ...handle.progress, status: 'Complete', progress_percent: 100 }
      this.emit({ event: 'download-progress', data: { ...view } })
    }, (err: unknown) => {
      const e = toCitrateError(err)
      view.error = { code: e.code, message: e.message }
      if (job.cancelled && e.code === 'ABORTED') view.cancelled = true
      view.progress = { ...handle.progress, status: { Failed: e.message } }
      this.emit({ event: 'download-progress', data: { ...view } })
    })
    return { ...view }
  }

  /** Sets the cap (MB/s, 0 = none) for the total of every download, running and future. */
  setLimit (mbps: number): { mbps: number } {
    this.limiter.setRate(mbps)
    this.limitSet = true
    return { mbps: this.limiter.mbps }
  }

  list (): DownloadView[] {
    return [...this.jobs.values()].map(j => ({ ...j.view }))
  }

  control (id: string, action: 'pause' | 'resume' | 'cancel'): DownloadView {
    const job = this.jobs.get(id)
    if (job == null) throw new ServiceError('NOT_FOUND', `no download with id ${id}`)
    if (action === 'pause') job.handle.pause()
    else if (action === 'resume') job.handle.resume()
    else {
      job.cancelled = true
      job.handle.cancel()
    }
    job.view.progress = { ...job.handle.progress }
    return { ...job.view }
  }

  /** Starts a failed or cancelled download again, with the arguments it was first given. */
  retry (id: string, config: LoadedConfig, env: NodeJS.ProcessEnv): DownloadView {
    const job = this.known(id)
    if (job.view.error == null) throw new InvalidArgumentError(`download ${id} has not failed or been cancelled${job.view.model != null ? ' (it is complete)' : ' (it is still running)'}`)
    return this.start(config, job.args, env)
  }

  /** Forgets an ended download; a running one must be cancelled first. */
  dismiss (id: string): { id: string, dismissed: boolean } {
    const job = this.known(id)
    if (job.view.model == null && job.view.error == null) throw new InvalidArgumentError(`download ${id} is still running; cancel it before dismissing it`)
    this.jobs.delete(id)
    return { id, dismissed: true }
  }

  private known (id: string): Job {
    const job = this.jobs.get(id)
    if (job == null) throw new ServiceError('NOT_FOUND', `no download with id ${id}`)
    return job
  }

  /** Stops every download (keeping verified data for a later resume). */
  shutdown (): void {
    this.stopping.abort()
  }
}
