/**
 * Deterministic test content: the ChaCha20 keystream kubo's CID-profile tests
 * use (key = sha256(seed), zero nonce), so its published CIDs can be checked
 * without kubo, and the size table that matters for UnixFS layouts.
 */
import { createCipheriv, createHash } from 'node:crypto'
import { open, readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'

export function chachaBytes (seed: string, n: number): Buffer {
  const key = createHash('sha256').update(seed).digest()
  return createCipheriv('chacha20', key, Buffer.alloc(16)).update(Buffer.alloc(n))
}

/** Writes `n` keystream bytes to `path` in 4 MiB pieces (bounded memory for big files). */
export async function writeChachaFile (path: string, seed: string, n: number): Promise<void> {
  const key = createHash('sha256').update(seed).digest()
  const cipher = createCipheriv('chacha20', key, Buffer.alloc(16))
  const fh = await open(path, 'w')
  try {
    const piece = Buffer.alloc(4 * 1024 * 1024)
    for (let left = n; left > 0; left -= piece.length) {
      await fh.write(cipher.update(left >= piece.length ? piece : piece.subarray(0, left)))
    }
  } finally {
    await fh.close()
  }
}

const CHUNK = 262_144
/** Sizes at the edges of kubo's default layout (256 KiB chunks, 174 links per node). */
export const LAYOUT_SIZES: Array<{ name: string, size: number, why: string }> = [
  { name: 'empty', size: 0, why: 'no Data bytes at all' },
  { name: 'one-byte', size: 1, why: 'smallest single leaf' },
  { name: 'chunk-minus-1', size: CHUNK - 1, why: 'largest single-chunk file minus one' },
  { name: 'chunk', size: CHUNK, why: 'exactly one chunk: the leaf is the root' },
  { name: 'chunk-plus-1', size: CHUNK + 1, why: 'first file with a parent node' },
  { name: 'full-node-minus-1', size: 174 * CHUNK - 1, why: 'one root with 174 links, last leaf short' },
  { name: 'full-node', size: 174 * CHUNK, why: 'one root with exactly 174 links' },
  { name: 'full-node-plus-1', size: 174 * CHUNK + 1, why: 'first two-level tree' },
  { name: 'random-3mb', size: 3 * 1024 * 1024 + 12_345, why: 'a few MB, uneven size' }
]

/** Flips the lowest bit of the byte at `offset` (bit rot, for verify tests); flipping twice restores it. */
export async function flipByte (path: string, offset: number): Promise<void> {
  const fh = await open(path, 'r+')
  try {
    const b = Buffer.alloc(1)
    await fh.read(b, 0, 1, offset)
    b[0] = (b[0] ?? 0) ^ 0x01
    await fh.write(b, 0, 1, offset)
  } finally {
    await fh.close()
  }
}

/** Every file and folder under `dir`, as relative path → content hash (or 'dir'). */
export async function treeOf (dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) { out.set(relative(dir, p), 'dir'); await walk(p) } else out.set(relative(dir, p), createHash('sha256').update(await readFile(p)).digest('hex'))
    }
  }
  await walk(dir)
  return out
}
