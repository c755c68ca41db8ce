/**
 * The hand-written byte-range client, against a loopback TCP server that
 * answers each request with a scripted raw HTTP response: what it accepts
 * (206 with the exact range, with or without Content-Length; a 200 that is
 * exactly the range from 0) and how it classifies everything else — the kind
 * of error decides whether the pull retries the source, drops it, or switches
 * it to CAR requests.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'
import { readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { AbortedError, RangeUnsupportedError, SourceRequestError } from '../src/errors.ts'
import { RangeRequest, type RangeSink } from '../src/fetch/range-client.ts'
import { behindProxy, GatewaySource } from '../src/fetch/gateway.ts'
import { DownloadLimiter } from '../src/net/rate-limit.ts'

const fixture = (name: string): Buffer => readFileSync(new URL(`./fixtures/tls/${name}`, import.meta.url))
const tlsCert = fixture('cert.pem')
const tlsKey = fixture('key.pem')

type Script = (socket: Socket, request: string) => void

let server: Server
let tlsServer: Server
let baseUrl: string
let tlsUrl: string
let script: Script = () => {}
let lastRequest = ''

/** Reads the request head, then hands the socket to the current script. */
function answer (socket: Socket): void {
  let head = ''
  socket.on('error', () => {})
  socket.on('data', (d: Buffer) => {
    if (head.includes('\r\n\r\n')) return
    head += d.toString('latin1')
    if (head.includes('\r\n\r\n')) { lastRequest = head; script(socket, head) }
  })
}

before(async () => {
  server = createServer(answer)
  tlsServer = createTlsServer({ key: tlsKey, cert: tlsCert, ALPNProtocols: ['http/1.1'] }, answer)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  await new Promise<void>(resolve => tlsServer.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prefix/`
  tlsUrl = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}/prefix/`
})

after(async () => {
  await new Promise(resolve => server.close(resolve))
  await new Promise(resolve => tlsServer.close(resolve))
})

/** A sink of small buffers (so reads split and pause), collecting what arrives. */
class CollectingSink implements RangeSink {
  readonly parts: Buffer[] = []
  private readonly size: number
  private room: number
  request: RangeRequest | undefined
  /** Buffers handed out before the sink says "full" until `resume` is called. */
  constructor (size: number, room = Infinity) { this.size = size; this.room = room }
  private last: Uint8Array | undefined
  buffer (): Uint8Array | undefined {
    if (this.room <= 0) return undefined
    this.room--
    this.last = Buffer.alloc(this.size)
    return this.last
  }

  wrote (n: number): void { this.parts.push(Buffer.from((this.last as Uint8Array).subarray(0, n))) }
  refill (k: number): void { this.room += k; this.request?.resume() }
  get bytes (): Buffer { return Buffer.concat(this.parts) }
}

async function read (from: number, to: number, opts: { sink?: CollectingSink, stallMs?: number, signal?: AbortSignal, base?: string, ca?: Buffer, limiter?: DownloadLimiter } = {}): Promise<Buffer> {
  const sink = opts.sink ?? new CollectingSink(4096)
  const req = new RangeRequest({ baseUrl: opts.base ?? baseUrl, path: '/ipfs/bafyexample', from, to, signal: opts.signal ?? new AbortController().signal, stallMs: opts.stallMs ?? 5000, sink, ca: opts.ca, limiter: opts.limiter })
  sink.request = req
  await req.run()
  return sink.bytes
}

const file = randomBytes(300_000)
const reply = (status: string, headers: string[], body: Buffer, end = true): Script => (socket) => {
  socket.write(`HTTP/1.1 ${status}\r\n${headers.map(h => h + '\r\n').join('')}\r\n`)
  socket.write(body)
  if (end) socket.end()
}
const partial = (from: number, to: number, extra: string[] = []): Script =>
  reply('206 Partial Content', [`Content-Range: bytes ${from}-${to - 1}/${file.length}`, `Content-Length: ${to - from}`, ...extra], file.subarray(from, to))

async function rejectsWith (p: Promise<unknown>, type: new (...a: never[]) => Error, match: RegExp, permanent?: boolean): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`)
    assert.match((err as Error).message, match)
    if (permanent !== undefined) assert.equal((err as SourceRequestError).permanent, permanent)
    return true
  })
}

describe('byte-range client', () => {
  test('a 206 with the exact range: every byte lands in the sink, in order; the request names the range and the path under the prefix', async () => {
    script = partial(1000, 201_000)
    const got = await read(1000, 201_000)
    assert.ok(got.equals(file.subarray(1000, 201_000)))
    assert.match(lastRequest, /^GET \/prefix\/ipfs\/bafyexample HTTP\/1\.1\r\n/)
    assert.match(lastRequest, /\r\nRange: bytes=1000-200999\r\n/)
    assert.match(lastRequest, /\r\nAccept-Encoding: identity\r\n/)
  })

  test('a sink that fills up pauses the read, and resume() carries on without losing or repeating a byte', async () => {
    script = partial(0, 250_000)
    const sink = new CollectingSink(10_000, 3)
    const done = read(0, 250_000, { sink })
    const refill = setInterval(() => sink.refill(2), 2)
    try {
      const got = await done
      assert.ok(got.equals(file.subarray(0, 250_000)))
    } finally {
      clearInterval(refill)
    }
  })

  test('a 206 without Content-Length, ended by the close: accepted when it is the whole range', async () => {
    script = reply('206 Partial Content', [`Content-Range: bytes 5-99/${file.length}`], file.subarray(5, 100))
    assert.ok((await read(5, 100)).equals(file.subarray(5, 100)))
  })

  test('a 200 is accepted only when it is exactly the range asked for, from byte 0', async () => {
    script = reply('200 OK', ['Content-Length: 5000'], file.subarray(0, 5000))
    assert.ok((await read(0, 5000)).equals(file.subarray(0, 5000)))
    script = reply('200 OK', [`Content-Length: ${file.length}`], file)
    await rejectsWith(read(100, 5000), RangeUnsupportedError, /HTTP 200 to a byte range request/)
    script = reply('200 OK', [], file.subarray(0, 5000))
    await rejectsWith(read(0, 5000), RangeUnsupportedError, /HTTP 200 to a byte range request/)
  })

  test('what cannot be read as plain range bytes is "unsupported" (the source goes to CAR requests)', async () => {
    const cases: Array<[string, Script, RegExp]> = [
      ['chunked', reply('206 Partial Content', [`Content-Range: bytes 0-99/${file.length}`, 'Transfer-Encoding: chunked'], Buffer.from('64\r\n' + 'x'.repeat(100) + '\r\n0\r\n\r\n')), /Transfer-Encoding chunked/],
      ['gzip', partial(0, 100, ['Content-Encoding: gzip']), /Content-Encoding gzip/],
      ['another range', reply('206 Partial Content', [`Content-Range: bytes 1-100/${file.length}`, 'Content-Length: 100'], file.subarray(1, 101)), /Content-Range "bytes 1-100\/300000" for bytes 0-99/],
      ['no Content-Range', reply('206 Partial Content', ['Content-Length: 100'], file.subarray(0, 100)), /Content-Range null/],
      ['Content-Length off', reply('206 Partial Content', [`Content-Range: bytes 0-99/${file.length}`, 'Content-Length: 99'], file.subarray(0, 99)), /Content-Length 99 for 100 bytes/],
      ['a redirect', reply('302 Found', ['Location: http://127.0.0.1:9/', 'Content-Length: 0'], Buffer.alloc(0)), /HTTP 302/],
      ['406 (trustless only)', reply('406 Not Acceptable', ['Content-Length: 0'], Buffer.alloc(0)), /HTTP 406/],
      ['not HTTP', (s) => { s.end('SSH-2.0-OpenSSH\r\n\r\n') }, /not an HTTP\/1\.1 response/],
      ['a 70 KiB header', (s) => { s.write('HTTP/1.1 206 Partial Content\r\nX-Pad: ' + 'a'.repeat(70 * 1024)) }, /header over 64 KiB/]
    ]
    for (const [label, s, match] of cases) {
      script = s
      await rejectsWith(read(0, 100), RangeUnsupportedError, match).catch((err: Error) => { throw new Error(`${label}: ${err.message}`) })
    }
  })

  test('https: the same exact-range reads through TLS, pauses included, and the same refusals', async () => {
    script = partial(4096, 290_000)
    assert.ok((await read(4096, 290_000, { base: tlsUrl, ca: tlsCert })).equals(file.subarray(4096, 290_000)))
    assert.match(lastRequest, /^GET \/prefix\/ipfs\/bafyexample HTTP\/1\.1\r\n/)
    assert.match(lastRequest, /\r\nHost: 127\.0\.0\.1:\d+\r\n/)

    script = partial(0, 250_000)
    const sink = new CollectingSink(10_000, 3)
    const done = read(0, 250_000, { sink, base: tlsUrl, ca: tlsCert })
    const refill = setInterval(() => sink.refill(2), 2)
    try {
      assert.ok((await done).equals(file.subarray(0, 250_000)))
    } finally {
      clearInterval(refill)
    }

    script = reply('206 Partial Content', [`Content-Range: bytes 0-99/${file.length}`, 'Transfer-Encoding: chunked'], Buffer.from('64\r\n' + 'x'.repeat(100) + '\r\n0\r\n\r\n'))
    await rejectsWith(read(0, 100, { base: tlsUrl, ca: tlsCert }), RangeUnsupportedError, /Transfer-Encoding chunked/)
    script = reply('206 Partial Content', [`Content-Range: bytes 0-9999/${file.length}`, 'Content-Length: 10000'], file.subarray(0, 6000))
    await rejectsWith(read(0, 10_000, { base: tlsUrl, ca: tlsCert }), SourceRequestError, /ended 4000 bytes short/, false)
  })

  test('https: a certificate nobody vouches for is refused before a request goes out, permanently (it will not become valid during a pull)', async () => {
    lastRequest = ''
    script = partial(0, 100)
    await rejectsWith(read(0, 100, { base: tlsUrl }), SourceRequestError, /request failed \((SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE)/, true)
    assert.equal(lastRequest, '')
  })

  test('other schemes are unsupported before any connection; gateways read ranges over http and https unless told not to', async () => {
    lastRequest = ''
    await rejectsWith(read(0, 100, { base: 'ftp://127.0.0.1:1/' }), RangeUnsupportedError, /http and https only \(ftp:\)/)
    assert.equal(lastRequest, '')
    assert.equal(new GatewaySource('https://gateway.example/').rangeBaseUrl, 'https://gateway.example')
    assert.equal(new GatewaySource('http://127.0.0.1:8080').rangeBaseUrl, 'http://127.0.0.1:8080')
    assert.equal(new GatewaySource('https://gateway.example', { byteRanges: false }).rangeBaseUrl, undefined)
  })

  test('behind an HTTP(S)_PROXY the range client (which connects directly) is not used, except for loopback and NO_PROXY hosts', () => {
    const env = { HTTPS_PROXY: 'http://proxy.corp:3128', NO_PROXY: 'internal.example,.lan' }
    assert.equal(behindProxy('https://ipfs.io', env), true)
    assert.equal(behindProxy('http://ipfs.io', env), false, 'HTTPS_PROXY is for https only')
    assert.equal(behindProxy('http://ipfs.io', { http_proxy: 'http://proxy.corp:3128' }), true)
    assert.equal(behindProxy('https://127.0.0.1:8080', env), false)
    assert.equal(behindProxy('https://localhost:8080', env), false)
    assert.equal(behindProxy('https://gw.internal.example', env), false, 'a NO_PROXY domain covers its subdomains (as in curl)')
    assert.equal(behindProxy('https://notinternal.example', env), true)
    assert.equal(behindProxy('https://internal.example', env), false)
    assert.equal(behindProxy('https://node.lan', env), false)
    assert.equal(behindProxy('https://ipfs.io', { HTTPS_PROXY: 'http://p:1', NO_PROXY: '*' }), false)
    assert.equal(behindProxy('https://ipfs.io', {}), false)
  })

  test('404 and 410 say the source lacks the content (permanent); 5xx, 429 and 408 are worth another try', async () => {
    for (const code of ['404 Not Found', '410 Gone']) {
      script = reply(code, ['Content-Length: 0'], Buffer.alloc(0))
      await rejectsWith(read(0, 100), SourceRequestError, new RegExp(`HTTP ${code.slice(0, 3)}`), true)
    }
    for (const code of ['500 Internal Server Error', '503 Service Unavailable', '429 Too Many Requests', '408 Request Timeout']) {
      script = reply(code, ['Content-Length: 0'], Buffer.alloc(0))
      await rejectsWith(read(0, 100), SourceRequestError, new RegExp(`HTTP ${code.slice(0, 3)}`), false)
    }
  })

  test('a 429 or 503 with Retry-After (seconds or an HTTP date) carries the rest it asks for; other statuses and no header carry none', async () => {
    script = reply('429 Too Many Requests', ['Retry-After: 2', 'Content-Length: 0'], Buffer.alloc(0))
    await assert.rejects(read(0, 100), (err: unknown) => err instanceof SourceRequestError && !err.permanent && err.retryAfterMs === 2000 && /Retry-After 2 s/.test(err.message))
    const inFive = new Date(Date.now() + 5000).toUTCString()
    script = reply('503 Service Unavailable', [`Retry-After: ${inFive}`, 'Content-Length: 0'], Buffer.alloc(0))
    await assert.rejects(read(0, 100), (err: unknown) => err instanceof SourceRequestError && err.retryAfterMs !== undefined && err.retryAfterMs > 3000 && err.retryAfterMs <= 5000)
    script = reply('502 Bad Gateway', ['Retry-After: 2', 'Content-Length: 0'], Buffer.alloc(0))
    await assert.rejects(read(0, 100), (err: unknown) => err instanceof SourceRequestError && err.retryAfterMs === undefined)
    script = reply('429 Too Many Requests', ['Content-Length: 0'], Buffer.alloc(0))
    await assert.rejects(read(0, 100), (err: unknown) => err instanceof SourceRequestError && err.retryAfterMs === undefined)
  })

  test('the gateway fetch path (CAR and raw blocks) passes Retry-After through the same way', async () => {
    const { createServer: createHttpServer } = await import('node:http')
    const http = createHttpServer((_req, res) => { res.writeHead(429, { 'retry-after': '3' }).end() })
    await new Promise<void>(resolve => http.listen(0, '127.0.0.1', resolve))
    try {
      const gw = new GatewaySource(`http://127.0.0.1:${(http.address() as AddressInfo).port}`)
      const { CID } = await import('multiformats/cid')
      const cid = CID.parse('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy')
      await assert.rejects(gw.getBlock(cid), (err: unknown) => err instanceof SourceRequestError && err.retryAfterMs === 3000)
      await assert.rejects((async () => { for await (const _ of gw.carBlocks(cid)) { /* none */ } })(), (err: unknown) => err instanceof SourceRequestError && err.retryAfterMs === 3000)
    } finally {
      await new Promise(resolve => http.close(resolve))
    }
  })

  test('under a bandwidth cap: reads wait for the bucket (no faster than the cap), and that wait is not a stall', async () => {
    const big = randomBytes(1_000_000)
    script = reply('206 Partial Content', [`Content-Range: bytes 0-${big.length - 1}/${big.length}`, `Content-Length: ${big.length}`], big)
    // 1 MB at 1 MB/s: the first 256 KiB burst is free, the rest takes ~0.74 s; stallMs 200 would fire if the wait counted.
    const limiter = new DownloadLimiter(1)
    const started = Date.now()
    const got = await read(0, big.length, { sink: new CollectingSink(256 * 1024), stallMs: 200, limiter })
    const ms = Date.now() - started
    assert.ok(got.equals(big), 'every byte, in order')
    assert.ok(ms >= 600, `took ${ms} ms: the cap held the read back`)
  })

  test('a body cut short, a connection dropped before any answer, a refused connection: transient', async () => {
    script = reply('206 Partial Content', [`Content-Range: bytes 0-9999/${file.length}`, 'Content-Length: 10000'], file.subarray(0, 6000))
    await rejectsWith(read(0, 10_000), SourceRequestError, /ended 4000 bytes short/, false)
    script = (s) => { s.end() }
    await rejectsWith(read(0, 100), SourceRequestError, /closed before a response/, false)
    const closed = createServer()
    await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise(resolve => closed.close(resolve))
    await rejectsWith(read(0, 100, { base: `http://127.0.0.1:${port}/` }), SourceRequestError, /request failed \(ECONNREFUSED\)/, false)
  })

  test('more bytes than the range: refused (permanent), nothing past the range reaches the sink', async () => {
    script = reply('206 Partial Content', [`Content-Range: bytes 0-99/${file.length}`], file.subarray(0, 5000), false)
    const sink = new CollectingSink(65536)
    await rejectsWith(read(0, 100, { sink }), SourceRequestError, /more body bytes/, true)
    assert.ok(sink.bytes.length <= 100)
  })

  test('a source that stops sending mid-body is stalled (transient); a paused sink is not a stall', async () => {
    script = reply('206 Partial Content', [`Content-Range: bytes 0-99999/${file.length}`, 'Content-Length: 100000'], file.subarray(0, 30_000), false)
    await rejectsWith(read(0, 100_000, { stallMs: 200 }), SourceRequestError, /stalled \(no data for 0\.2 s\)/, false)

    script = partial(0, 100_000)
    const sink = new CollectingSink(10_000, 1)
    const done = read(0, 100_000, { sink, stallMs: 200 })
    // The sink stays full for 3x the stall time, then takes the rest.
    await new Promise(resolve => setTimeout(resolve, 600))
    sink.refill(1000)
    assert.ok((await done).equals(file.subarray(0, 100_000)))

    // And once reading resumes, the clock runs again: a source that stops after a pause is still caught.
    script = reply('206 Partial Content', [`Content-Range: bytes 0-99999/${file.length}`, 'Content-Length: 100000'], file.subarray(0, 30_000), false)
    const paused = new CollectingSink(10_000, 1)
    const stalled = read(0, 100_000, { sink: paused, stallMs: 200 })
    await new Promise(resolve => setTimeout(resolve, 400))
    paused.refill(1000)
    await rejectsWith(stalled, SourceRequestError, /stalled/, false)
    assert.equal(paused.bytes.length, 30_000)
  })

  test('an abort ends the read with AbortedError', async () => {
    script = reply('206 Partial Content', [`Content-Range: bytes 0-99999/${file.length}`, 'Content-Length: 100000'], file.subarray(0, 1000), false)
    const ac = new AbortController()
    const done = read(0, 100_000, { signal: ac.signal })
    setTimeout(() => ac.abort(), 50)
    await assert.rejects(done, AbortedError)
  })

  test('an error thrown by the sink (a leaf that does not prove) stops the read with that error', async () => {
    script = partial(0, 50_000)
    const sink = new CollectingSink(4096)
    let calls = 0
    const original = sink.wrote.bind(sink)
    sink.wrote = (n: number) => { if (++calls === 3) throw new Error('leaf 2 does not match'); original(n) }
    await assert.rejects(read(0, 50_000, { sink }), /leaf 2 does not match/)
    assert.equal(sink.parts.length, 2)
  })
})
