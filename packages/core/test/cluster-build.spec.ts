/**
 * The strict diff applier the IPFS Cluster test build uses for
 * tools/cluster/patches (a hunk that does not match exactly once stops the
 * build), and the committed no-nat patch itself.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { applyUnifiedDiff, clusterBuildKey } from '../../../tools/cluster/build-cluster.mjs'

const source = ['package x', '', 'func opts() []int {', '\treturn []int{', '\t\t1,', '\t\t2,', '\t\t3,', '\t}', '}', ''].join('\n')
const diff = ['header text is ignored', '', '--- a/x.go', '+++ b/x.go', '@@ -4,4 +4,3 @@', ' \treturn []int{', ' \t\t1,', '-\t\t2,', ' \t\t3,', ''].join('\n')

async function withFile (content: string, run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'citrate-patch-'))
  try {
    await writeFile(join(dir, 'x.go'), content)
    await run(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

describe('the cluster build applies its patches strictly', () => {
  test('a matching hunk is applied', async () => {
    await withFile(source, async (dir) => {
      applyUnifiedDiff(dir, diff, 't.patch')
      assert.equal(await readFile(join(dir, 'x.go'), 'utf8'), source.replace('\t\t2,\n', ''))
    })
  })

  test('a hunk that does not match the source, or matches twice, or a missing file, stops the build', async () => {
    await withFile(source.replace('\t\t2,', '\t\t2, // changed upstream'), async (dir) => {
      assert.throws(() => { applyUnifiedDiff(dir, diff, 't.patch') }, /t\.patch: hunk 1 of x\.go does not match/)
      assert.match(await readFile(join(dir, 'x.go'), 'utf8'), /changed upstream/, 'the file is left as it was')
    })
    await withFile(source + source.slice(source.indexOf('func')), async (dir) => {
      assert.throws(() => { applyUnifiedDiff(dir, diff, 't.patch') }, /matches more than one place/)
    })
    await withFile(source, async (dir) => {
      assert.throws(() => { applyUnifiedDiff(dir, diff.replaceAll('x.go', 'y.go'), 't.patch') }, /y\.go is not in/)
      assert.throws(() => { applyUnifiedDiff(dir, 'no diff here\n', 't.patch') }, /no file diffs/)
    })
  })

  test('the no-nat patch removes NAT port mapping and the AutoNAT service, and names the cache', async () => {
    const patch = await readFile(new URL('../../../tools/cluster/patches/no-nat.patch', import.meta.url), 'utf8')
    const removed = patch.split('\n').filter(l => l.startsWith('-') && !l.startsWith('---')).map(l => l.slice(1).trim())
    assert.deepEqual(removed.sort(), ['libp2p.EnableNATService(),', 'libp2p.EnableNATService(),', 'libp2p.NATPortMap(),'])
    assert.equal(patch.split('\n').filter(l => l.startsWith('+') && !l.startsWith('+++')).length, 0, 'it only removes lines')
    assert.match(clusterBuildKey(), /^v1\.1\.0-nonat-[0-9a-f]{12}$/)
  })
})
