/**
 * The DAG walk's scheduler (depth first, workers on p-queue): later pushes run
 * first and one push's tasks in order, at most `concurrency` at once, and the
 * first failure (an abort included) stops everything queued and is rethrown
 * once the running tasks are done.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { AbortedError } from '../src/errors.ts'
import { DepthFirstScheduler } from '../src/fetch/walk/scheduler.ts'

interface Node { name: string, children?: Node[] }

const tree = (name: string, ...children: Node[]): Node => ({ name, children })

describe('walk scheduler', () => {
  test('depth first: a task\'s children run before its later siblings, siblings in order', async () => {
    const order: string[] = []
    const s: DepthFirstScheduler<Node> = new DepthFirstScheduler<Node>(1, async (n) => {
      order.push(n.name)
      await sleep(1)
      s.push(n.children ?? [])
    })
    s.push([
      tree('a', tree('a1', tree('a1x'), tree('a1y')), tree('a2')),
      tree('b'),
      tree('c', tree('c1'))
    ])
    await s.run()
    assert.deepEqual(order, ['a', 'a1', 'a1x', 'a1y', 'a2', 'b', 'c', 'c1'])
  })

  test('a large push queued behind nested ones still runs in order', async () => {
    const order: number[] = []
    const s: DepthFirstScheduler<number> = new DepthFirstScheduler<number>(4, async (n) => {
      order.push(n)
      // Task 0 fans out while 50 000 wait, as a HAMT shard does: its names go first.
      if (n === 0) s.push(Array.from({ length: 1000 }, (_, i) => -1 - i))
    })
    s.push(Array.from({ length: 50_000 }, (_, i) => i))
    await s.run()
    assert.equal(order.length, 51_000)
    const late = order.filter(n => n < 0)
    assert.deepEqual(late, Array.from({ length: 1000 }, (_, i) => -1 - i))
    // Everything from the late push ran before the early push's tail.
    assert.ok(order.indexOf(-1000) < order.indexOf(49_999))
    assert.deepEqual(order.filter(n => n >= 0), Array.from({ length: 50_000 }, (_, i) => i))
  })

  test('never more than `concurrency` tasks at once, and that many when there is work', async () => {
    let active = 0
    let most = 0
    let ran = 0
    const s = new DepthFirstScheduler<number>(3, async () => {
      active++
      most = Math.max(most, active)
      await sleep(5)
      active--
      ran++
    })
    s.push(Array.from({ length: 20 }, (_, i) => i))
    await s.run()
    assert.equal(ran, 20)
    assert.equal(most, 3)
  })

  test('run() waits for work pushed by running tasks', async () => {
    const done: number[] = []
    const s: DepthFirstScheduler<number> = new DepthFirstScheduler<number>(2, async (n) => {
      await sleep(2)
      if (n < 5) s.push([n + 1])
      done.push(n)
    })
    s.push([0])
    await s.run()
    assert.deepEqual(done, [0, 1, 2, 3, 4, 5])
  })

  test('the first failure stops what is queued, lets running tasks finish, and is rethrown', async () => {
    const started: number[] = []
    const finished: number[] = []
    const s = new DepthFirstScheduler<number>(2, async (n) => {
      started.push(n)
      if (n === 1) { await sleep(1); throw new Error('first') }
      if (n === 0) { await sleep(30); finished.push(n); throw new Error('second') }
      await sleep(1)
      finished.push(n)
    })
    s.push(Array.from({ length: 10 }, (_, i) => i))
    await assert.rejects(s.run(), /first/)
    assert.deepEqual(started, [0, 1])
    // Task 0 was running when task 1 failed: it ran to its end before run() rejected.
    assert.deepEqual(finished, [0])
    s.push([99])
    await sleep(5)
    assert.deepEqual(started, [0, 1], 'nothing runs once the scheduler has failed')
  })

  test('abort: running tasks see the signal and throw; nothing queued starts; the abort is rethrown', async () => {
    const controller = new AbortController()
    const started: number[] = []
    const s = new DepthFirstScheduler<number>(2, async (n) => {
      started.push(n)
      // A task checks the signal the way the walk's fetches do: before and after waiting on I/O.
      if (controller.signal.aborted) throw new AbortedError('pull')
      await sleep(10)
      if (controller.signal.aborted) throw new AbortedError('pull')
    })
    s.push(Array.from({ length: 100 }, (_, i) => i))
    await sleep(25)
    controller.abort()
    const count = started.length
    await assert.rejects(s.run(), (err: unknown) => err instanceof AbortedError)
    assert.ok(count >= 2 && count < 100, `started ${count}`)
    // Only the (at most two) tasks running at the abort were started, none after.
    assert.equal(started.length, count)
  })
})
