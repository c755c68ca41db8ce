/**
 * The service's one status map: every code has a status (the type-check proves
 * the map complete; these tests pin what the statuses are), client faults are
 * 4xx, upstream failures 5xx other than 500, and only our own faults are 500.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { createClient, CommandError, type CitrateClient } from '@citrate-ipfs/client'
import { ERROR_CODES, SERVICE_ERROR_CODES } from '@citrate-ipfs/contract'
import { HTTP_STATUS, httpStatusFor, startService, type RunningService } from '../src/index.ts'
import { makeTestHome, type TestHome } from '../../core/test/helpers/kubo.ts'

describe('HTTP status map', () => {
  test('every core and service code has a status, and each status is an error status', () => {
    for (const code of [...ERROR_CODES, ...SERVICE_ERROR_CODES]) {
      const status = httpStatusFor(code)
      assert.ok(Number.isInteger(status) && status >= 400 && status < 600, `${code} → ${status}`)
    }
    assert.deepEqual(Object.keys(HTTP_STATUS).sort(), [...ERROR_CODES, ...SERVICE_ERROR_CODES].sort())
  })

  test('only our own faults and local state we cannot repair are 500', () => {
    const internal = Object.entries(HTTP_STATUS).filter(([, s]) => s === 500).map(([c]) => c).sort()
    assert.deepEqual(internal, ['INTERNAL', 'KUBO_REPO_CONFIG_INVALID', 'PERMISSION_DENIED', 'REGISTRY_CORRUPT', 'REGISTRY_VERSION_UNSUPPORTED'])
  })

  test('client faults are 4xx, upstream failures 502/503/504', () => {
    const expected: Array<[keyof typeof HTTP_STATUS, number]> = [
      ['INVALID_CID', 400], ['INVALID_ARGUMENT', 400], ['INVALID_MODEL_ID', 400], ['UNSUPPORTED', 422], ['UNSAFE_NAME', 422],
      ['MODEL_NOT_FOUND', 404], ['NOT_PINNED', 404], ['BAD_REQUEST', 400], ['PIN_IN_USE', 409], ['TARGET_EXISTS', 409], ['UNAUTHORIZED', 401], ['BODY_TOO_LARGE', 413],
      ['ALL_SOURCES_FAILED', 502], ['INSTALL_DOWNLOAD_FAILED', 502], ['KUBO_RPC_ERROR', 502], ['BLOCK_MISMATCH', 502],
      ['DAEMON_NOT_RUNNING', 503], ['PIN_TIMEOUT', 504], ['DISK_FULL', 507]
    ]
    for (const [code, status] of expected) assert.equal(httpStatusFor(code), status, code)
  })
})

describe('error answers from a running service', () => {
  let h: TestHome
  let svc: RunningService
  let client: CitrateClient
  before(async () => {
    h = await makeTestHome()
    const uiDir = join(h.home, 'ui')
    await mkdir(uiDir, { recursive: true })
    await writeFile(join(uiDir, 'index.html'), '<html><head></head><body>ui</body></html>')
    svc = await startService({ home: h.home, port: 0, env: h.env, uiDir })
    client = createClient({ baseUrl: svc.url, token: svc.token })
  })
  after(async () => {
    await svc.close()
    await h.cleanup()
  })

  const rejectsWith = async (p: Promise<unknown>, code: string, status: number): Promise<void> => {
    await assert.rejects(p, (err: Error) => {
      assert.ok(err instanceof CommandError, String(err))
      assert.equal(err.code, code)
      assert.equal(err.status, status)
      return true
    })
  }

  test('a dag-cbor CID to ipfs_download_model is refused with 422 UNSUPPORTED, not a 500', async () => {
    const cbor = CID.create(1, 0x71, await sha256.digest(new TextEncoder().encode('not unixfs')))
    await rejectsWith(client.invoke('ipfs_download_model', { cid: cbor.toString() }), 'UNSUPPORTED', 422)
  })

  test('a malformed CID is 400 INVALID_CID', async () => {
    await rejectsWith(client.invoke('ipfs_download_model', { cid: 'not-a-cid' }), 'INVALID_CID', 400)
  })

  test("the service's own errors take their status from the same map", async () => {
    await rejectsWith(client.invoke('ipfs_pause_download', { id: 'no-such-download' }), 'NOT_FOUND', 404)
  })

  test('a malformed %-escape in a UI path is a 400 BAD_REQUEST with the JSON error body, not a 500', async () => {
    const answer = await new Promise<{ status: number, body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: svc.port, path: '/%E0%A4%A' }, res => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => { body += c })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      })
      req.on('error', reject)
      req.end()
    })
    assert.equal(answer.status, 400)
    assert.equal((JSON.parse(answer.body) as { error: { code: string } }).error.code, 'BAD_REQUEST')
  })
})
