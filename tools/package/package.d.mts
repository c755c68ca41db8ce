/** Types for tools/package/package.mjs (imported by the sidecar test). */
export interface SidecarManifest {
  executable: string
  bytes: number
  sha256: string
  node: string
  bundle: { modules: number, bytes: number, nativeAddons: string[] }
  uiFiles: number
  kubo: { path: string, version: string, bytes: number } | null
  fromCache: boolean
  seconds: number
}
export function packageSidecar (opts?: { out?: string, kubo?: boolean, log?: (m: string) => void }): Promise<SidecarManifest>
