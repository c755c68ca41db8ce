/** Where a model folder keeps our bookkeeping (metadata.json, config.json, the DAG index): its `.citrate/` subfolder, for assertions. */
import { join, sep } from 'node:path'
import { treeOf } from './content.ts'

export function bookkeepingFile (modelDir: string, name: string): string {
  return join(modelDir, '.citrate', name)
}

/** A model folder's files and folders as treeOf gives them, without our `.citrate/` (what a folder model published). */
export async function contentTreeOf (modelDir: string): Promise<Map<string, string>> {
  const tree = await treeOf(modelDir)
  for (const key of [...tree.keys()]) if (key === '.citrate' || key.startsWith(`.citrate${sep}`)) tree.delete(key)
  return tree
}
