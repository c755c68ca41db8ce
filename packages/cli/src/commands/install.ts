import { installKubo } from '@citrate-ipfs/core'
import { formatBytes } from '@citrate-ipfs/contract/plain'
import type { Context } from '../context.ts'
import { ProgressBar } from '../output.ts'

export async function installCommand (ctx: Context, opts: { version?: string, distUrl?: string }): Promise<void> {
  const bar = ctx.out.interactive ? new ProgressBar(ctx.out.stderr, 'downloading kubo') : undefined
  const result = await installKubo({
    paths: ctx.config.paths,
    version: opts.version ?? ctx.config.ipfs.kubo_version,
    distUrl: opts.distUrl ?? ctx.config.ipfs.dist_url,
    onProgress: (e) => {
      ctx.out.event(e)
      if (e.type === 'citrate:install:download') bar?.update(e.downloadedBytes, e.totalBytes)
      if (e.type === 'citrate:install:verify') bar?.done()
    }
  })
  bar?.done()
  ctx.out.result({ installed: true, ...result }, `installed kubo ${result.version} at ${result.path} (${formatBytes(result.bytes)} download, sha512 verified)`)
}
