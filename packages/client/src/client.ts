import type { CommandArgs, CommandName, CommandResult, ErrorBody, ServiceEvent } from './commands.ts'

export interface ClientOptions {
  /** The service's origin, e.g. `http://127.0.0.1:5050`. In the served UI: the page's own origin. */
  baseUrl: string
  /**
   * The per-install token (`$CITRATE_HOME/run/service-token`): the Tauri app and
   * scripts. Left out in a page served by the service, whose same-origin
   * requests carry the session cookie its login URL set.
   */
  token?: string
  fetch?: typeof fetch
}

/** A failed command: `code` is stable (branch on it), `message` is for people. */
export class CommandError extends Error {
  readonly code: string
  readonly status: number
  constructor (code: string, message: string, status: number) {
    super(message)
    this.name = 'CommandError'
    this.code = code
    this.status = status
  }
}

export interface CitrateClient {
  invoke: <C extends CommandName>(command: C, args?: CommandArgs<C>) => Promise<CommandResult<C>>
  /** Streams service events until `signal` aborts. Reconnects are the caller's choice. */
  listen: (onEvent: (event: ServiceEvent) => void, opts?: { signal?: AbortSignal }) => Promise<void>
}

export function createClient (opts: ClientOptions): CitrateClient {
  const base = opts.baseUrl.replace(/\/+$/, '')
  const doFetch = opts.fetch ?? globalThis.fetch.bind(globalThis)
  const auth: Record<string, string> = opts.token != null ? { authorization: `Bearer ${opts.token}` } : {}

  async function invoke<C extends CommandName> (command: C, args?: CommandArgs<C>): Promise<CommandResult<C>> {
    let res: Response
    try {
      res = await doFetch(`${base}/api/commands/${command}`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(args ?? {})
      })
    } catch (err) {
      throw new CommandError('SERVICE_UNREACHABLE', `the citrate-ipfs service at ${base} is not reachable: ${(err as Error).message}`, 0)
    }
    const text = await res.text()
    let body: unknown
    try {
      body = text === '' ? undefined : JSON.parse(text)
    } catch {
      throw new CommandError('BAD_RESPONSE', `the service answered ${command} with something that is not JSON (HTTP ${res.status})`, res.status)
    }
    if (!res.ok) {
      const e = (body as ErrorBody | undefined)?.error
      throw new CommandError(e?.code ?? 'HTTP_ERROR', e?.message ?? `HTTP ${res.status}`, res.status)
    }
    return body as CommandResult<C>
  }

  async function listen (onEvent: (event: ServiceEvent) => void, lopts: { signal?: AbortSignal } = {}): Promise<void> {
    const res = await doFetch(`${base}/api/events`, { headers: { ...auth, accept: 'text/event-stream' }, signal: lopts.signal })
    if (!res.ok || res.body == null) throw new CommandError('EVENTS_UNAVAILABLE', `event stream refused: HTTP ${res.status}`, res.status)
    const reader = res.body.getReader()
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      while (true) {
        const { value, done } = await reader.read()
        if (done) return
        buffer += decoder.decode(value, { stream: true })
        let sep: number
        while ((sep = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, sep)
          buffer = buffer.slice(sep + 2)
          const event = parseFrame(frame)
          if (event != null) onEvent(event)
        }
      }
    } catch (err) {
      if (lopts.signal?.aborted === true) return
      throw err
    }
  }

  return { invoke, listen }
}

/** One Server-Sent Events frame (`event:` and `data:` lines) → a ServiceEvent. */
export function parseFrame (frame: string): ServiceEvent | undefined {
  let name = 'message'
  const data: string[] = []
  for (const line of frame.split('\n')) {
    if (line.startsWith(':')) continue
    if (line.startsWith('event:')) name = line.slice(6).trim()
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
  }
  if (data.length === 0) return undefined
  try {
    return { event: name, data: JSON.parse(data.join('\n')) } as ServiceEvent
  } catch {
    return undefined
  }
}
