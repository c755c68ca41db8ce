/**
 * What users paste to name content (ipld/content-path.ts): every accepted
 * form gives the CID and the entry names, every refusal is INVALID_CID with
 * the input quoted, an example that works, and none of the multibase
 * library's wording.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { CID } from 'multiformats/cid'
import { base36 } from 'multiformats/bases/base36'
import { formatContentPath, parseContentPath } from '../src/index.ts'

// kubo's CIDs of "hello world" (IPFS-NOTES.md): a CIDv0 and a raw-leaf CIDv1.
const V0 = 'Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD'
const V1 = 'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e'
const V0_AS_V1 = CID.parse(V0).toV1().toString()
const V1_BASE36 = CID.parse(V1).toString(base36)

describe('parseContentPath: accepted forms', () => {
  const table: Array<[string, string, string, string[]]> = [
    ['bare CIDv0', V0, V0, []],
    ['bare CIDv1', V1, V1, []],
    ['surrounding whitespace', `  ${V1}\n`, V1, []],
    ['CID with a path', `${V1}/folder/tiny-Q4_K_M.gguf`, V1, ['folder', 'tiny-Q4_K_M.gguf']],
    ['CID with a folder and trailing slash', `${V0}/snapshot/`, V0, ['snapshot']],
    ['CID and one trailing slash', `${V0}/`, V0, []],
    ['/ipfs/ path', `/ipfs/${V0}`, V0, []],
    ['/ipfs/ path with segments', `/ipfs/${V1}/a/b.gguf`, V1, ['a', 'b.gguf']],
    ['ipfs:// URL', `ipfs://${V1}`, V1, []],
    ['ipfs:// URL with a path', `ipfs://${V0}/models/x.gguf`, V0, ['models', 'x.gguf']],
    ['ipfs:// URL, percent-encoded, query and fragment ignored', `ipfs://${V1}/my%20model/a%2Bb.gguf?filename=z#top`, V1, ['my model', 'a+b.gguf']],
    ['IPFS:// in capitals', `IPFS://${V1}/x`, V1, ['x']],
    ['path gateway URL', `https://ipfs.io/ipfs/${V0}`, V0, []],
    ['path gateway URL with a path and port', `http://127.0.0.1:8080/ipfs/${V1}/dir/file.bin`, V1, ['dir', 'file.bin']],
    ['path gateway URL, percent-decoded, query ignored', `https://dweb.link/ipfs/${V1}/Qwen%202.5/model%28q4%29.gguf?format=raw`, V1, ['Qwen 2.5', 'model(q4).gguf']],
    ['subdomain gateway, base32 label', `https://${V0_AS_V1}.ipfs.dweb.link/`, V0_AS_V1, []],
    ['subdomain gateway, base32 label, path', `https://${V1}.ipfs.localhost:8080/a/b%20c.txt`, V1, ['a', 'b c.txt']],
    ['subdomain gateway, base36 label', `https://${V1_BASE36}.ipfs.w3s.link/x.gguf`, V1, ['x.gguf']],
    ['path gateway on a host whose second label is ipfs', `https://gateway.ipfs.io/ipfs/${V0}/a.bin`, V0, ['a.bin']]
  ]
  for (const [what, input, cid, segments] of table) {
    test(what, () => {
      const p = parseContentPath(input)
      assert.equal(p.cid.toV1().toString(), CID.parse(cid).toV1().toString())
      assert.deepEqual(p.segments, segments)
    })
  }

  test('a CIDv0 stays a CIDv0 (the same spelling as kubo gives)', () => {
    assert.equal(parseContentPath(`/ipfs/${V0}/a`).cid.toString(), V0)
    assert.equal(formatContentPath(parseContentPath(`ipfs://${V0}/a/b`)), `${V0}/a/b`)
  })
})

describe('parseContentPath: refusals', () => {
  const table: Array<[string, string, RegExp]> = [
    ['empty', '   ', /it is empty/],
    ['dot-dot segment', `${V1}/../x`, /"\.\." segments are not allowed/],
    ['dot-dot deeper', `${V1}/a/../../etc/passwd`, /"\.\." segments are not allowed/],
    ['dot segment', `${V1}/./x`, /"\." segments are not allowed/],
    ['percent-encoded dot-dot in a gateway URL', `https://ipfs.io/ipfs/${V1}/%2e%2e/x`, /"\.\." segments are not allowed/],
    ['raw dot-dot in a gateway URL (URL parsing would drop it)', `https://ipfs.io/ipfs/${V1}/a/../b`, /"\.\." segments are not allowed/],
    ['dot-dot in ipfs://', `ipfs://${V1}/..`, /"\.\." segments are not allowed/],
    ['empty segment', `${V1}/a//b`, /empty path segment/],
    ['absolute segment after the CID', `${V1}//etc/passwd`, /empty path segment/],
    ['backslash', `${V1}/a\\b`, /backslash/],
    ['encoded slash', `ipfs://${V1}/a%2Fb`, /encodes a path separator/],
    ['encoded backslash', `ipfs://${V1}/a%5Cb`, /encodes a path separator/],
    ['NUL', `${V1}/a\u0000b`, /control character/],
    ['encoded NUL', `https://ipfs.io/ipfs/${V1}/a%00b`, /control character/],
    ['newline in a segment', `${V1}/a\nb`, /control character/],
    ['non-portable name', `${V1}/a:b`, /cannot be a file or folder name here/],
    ['broken escape', `ipfs://${V1}/a%zz`, /broken %-escape/],
    ['not a CID', 'hello', /"hello" is not a CID/],
    ['a damaged CIDv0', V0.slice(0, -3), /looks like a CIDv0 but is damaged/],
    ['a damaged CIDv1', `${V1.slice(0, -4)}0000`, /looks like a CIDv1 but is damaged/],
    ['ipfs:// with nothing', 'ipfs://', /no CID/],
    ['ipns://', 'ipns://example.com', /IPNS names are not supported/],
    ['/ipns/ path', '/ipns/example.com/x', /IPNS names are not supported/],
    ['ipns gateway URL', 'https://ipfs.io/ipns/example.com', /IPNS names are not supported/],
    ['a path not under /ipfs/', `/data/${V1}`, /must start with \/ipfs\/<cid>/],
    ['a web page that is no gateway link', 'https://huggingface.co/Qwen/Qwen2.5-7B', /no \/ipfs\/<cid> path/],
    ['a subdomain CIDv0 (case-folded by DNS)', `https://${V0.toLowerCase()}.ipfs.dweb.link/`, /cannot hold a CIDv0/],
    ['an unknown scheme', `ftp://host/ipfs/${V1}`, /"ftp:" links are not IPFS content/],
    ['a local Windows path', 'C:\\models\\x.gguf', /file on this computer/],
    ['too long', `${V1}/${'a/'.repeat(3000)}`, /longer than 4096/]
  ]
  for (const [what, input, reason] of table) {
    test(what, () => {
      assert.throws(() => parseContentPath(input), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'INVALID_CID')
        assert.match(err.message, reason)
        // What was pasted is named, and what works is shown.
        if (input.trim() !== '' && input.length < 4096) assert.ok(err.message.includes(JSON.stringify(input.trim()).slice(1, 20)), err.message)
        assert.match(err.message, /What works: a CID \(bafy… or Qm…\), <cid>\/folder\/model\.gguf/)
        // Library wording never reaches the user.
        assert.doesNotMatch(err.message, /multibase|decoder|Invalid CID version|Non-base/i)
        return true
      })
    })
  }

  test('the message the issue quoted is gone: ipfs://<cid> parses, junk says what works', () => {
    assert.equal(parseContentPath(`ipfs://${V0}`).cid.toString(), V0)
    assert.throws(() => parseContentPath('ipfs://x'), /"ipfs:\/\/x" is not a valid CID or IPFS path: "x" is not a CID/)
  })
})

describe('parseContentPath: field names of IPLD nodes (get)', () => {
  test('with fieldNames, a segment need not be a portable file name; traversal, empty and control characters are still refused', () => {
    assert.deepEqual(parseContentPath(`${V1}/dc:title/CON/a?b`, { fieldNames: true }).segments, ['dc:title', 'CON', 'a?b']) // a bare path has no query part
    assert.deepEqual(parseContentPath(`ipfs://${V1}/dc%3Atitle/x%22y`, { fieldNames: true }).segments, ['dc:title', 'x"y'])
    assert.throws(() => parseContentPath(`${V1}/dc:title`), /cannot be a file or folder name here/)
    for (const bad of [`${V1}/../x`, `${V1}/./x`, `${V1}//x`, `ipfs://${V1}/a%2Fb`, `ipfs://${V1}/a%00b`, `${V1}/a\\b`]) {
      assert.throws(() => parseContentPath(bad, { fieldNames: true }), { code: 'INVALID_CID' }, bad)
    }
  })
})
