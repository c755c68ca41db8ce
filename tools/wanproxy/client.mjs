// Starts a wanproxy process and speaks its stdin/stdout protocol (see main.go):
// shared by the tests' helper (packages/core/test/helpers/wan.ts) and the WAN benchmark.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

export async function startWanproxy (binary, upstreamUrl, links) {
  const upstream = new URL(upstreamUrl).host
  const config = { listeners: links.map(l => ({ ...l, upstream })) }
  const child = spawn(binary, ['-config', JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d })
  const exited = new Promise(resolve => child.once('exit', code => resolve(code)))
  // The proxy answers each command with exactly one line, in order.
  const waiting = []
  const failAll = (why) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`wanproxy ${why}: ${stderr.trim()}`))
  }
  const next = () => new Promise((resolve, reject) => { waiting.push({ resolve, reject }) })
  const first = next()
  createInterface({ input: child.stdout }).on('line', (line) => {
    const w = waiting.shift()
    if (w == null) return
    try {
      w.resolve(JSON.parse(line))
    } catch (err) {
      w.reject(err)
    }
  })
  void exited.then(code => { failAll(`exited (${code ?? 'signal'})`) })
  child.once('error', err => { failAll(`did not start (${err.message})`) })
  const gateways = (await first).listeners.map(({ name, url }) => ({ name, url }))

  const command = async (cmd) => {
    const answer = next()
    child.stdin.write(JSON.stringify(cmd) + '\n')
    const a = await answer
    if (typeof a.error === 'string') throw new Error(`wanproxy: ${a.error}`)
    return a
  }
  return {
    gateways,
    pid: child.pid ?? 0,
    url: (name) => {
      const g = gateways.find(x => x.name === name)
      if (g == null) throw new Error(`no WAN link named ${name}`)
      return g.url
    },
    stats: async () => (await command({ cmd: 'stats' })).stats,
    set: async (name, changes) => { await command({ ...changes, cmd: 'set', name }) },
    stop: async () => {
      if (child.exitCode != null || child.signalCode != null) return
      // Closing stdin is the proxy's signal to exit; SIGKILL only if it hangs.
      child.stdin.end()
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    }
  }
}
