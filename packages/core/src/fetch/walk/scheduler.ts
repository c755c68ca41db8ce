/**
 * The walk's scheduler: depth first, `concurrency` tasks at once. Tasks wait
 * on a stack; tasks pushed later run before those pushed earlier, and the
 * tasks of one push run in their given order, so a file's blocks are fetched
 * (and written) mostly front to back and the stack stays about depth ×
 * links-per-node deep.
 *
 * p-queue runs the workers: a push starts one per waiting task up to
 * `concurrency`, and each takes tasks off the top of the stack until none
 * wait. Not one p-queue job per task: that costs about 20× the time per task
 * (a promise, an id, a timer read, events), paid per block when a pull goes
 * block by block, and its priorities (which could give this order) insert
 * near the front of one sorted array, O(queued) per task: quadratic for a HAMT
 * folder whose 100 000 names wait behind its shards.
 *
 * The first failure stops it: nothing waiting starts after it, running tasks
 * finish, and `run` rethrows it.
 */
import PQueue from 'p-queue'

export class DepthFirstScheduler<T> {
  private readonly queue: PQueue
  private readonly concurrency: number
  private readonly handle: (task: T) => Promise<void>
  private readonly stack: T[] = []
  private workers = 0
  private failure: { error: unknown } | undefined

  constructor (concurrency: number, handle: (task: T) => Promise<void>) {
    this.concurrency = Math.max(1, concurrency)
    this.queue = new PQueue({ concurrency: this.concurrency })
    this.handle = handle
  }

  /** Queues `tasks` ahead of everything waiting, to run in this order. */
  push (tasks: readonly T[]): void {
    if (this.failure !== undefined) return
    for (let i = tasks.length - 1; i >= 0; i--) this.stack.push(tasks[i] as T)
    for (let n = Math.min(tasks.length, this.concurrency - this.workers); n > 0; n--) {
      this.workers++
      void this.queue.add(this.work)
    }
  }

  /** Resolves when every task (and every task they pushed) is done; rejects with the first failure. */
  async run (): Promise<void> {
    await this.queue.onIdle()
    if (this.failure !== undefined) throw this.failure.error
  }

  private readonly work = async (): Promise<void> => {
    try {
      while (this.failure === undefined && this.stack.length > 0) {
        try {
          await this.handle(this.stack.pop() as T)
        } catch (error) {
          this.failure ??= { error }
        }
      }
    } finally {
      this.workers--
    }
  }
}
