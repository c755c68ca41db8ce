/** Where a model folder keeps our bookkeeping (metadata.json, config.json, the DAG index), for assertions. */
import { join } from 'node:path'

export function bookkeepingFile (modelDir: string, name: string): string {
  return join(modelDir, name)
}
