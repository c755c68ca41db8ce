// Types of build-cluster.mjs for the TypeScript tests.
export function pinnedClusterVersion (): string
/** The cache key: `<version>-nonat-<hash of the patches>`. */
export function clusterBuildKey (version?: string): string
export function cachedClusterDir (version?: string): string
/** Applies a unified diff (paths a/… b/… from `root`) strictly: each hunk must match exactly once, whole lines, or it throws. */
export function applyUnifiedDiff (root: string, text: string, name: string): void
/** The folder holding ipfs-cluster-service and ipfs-cluster-ctl, building them (patched) when the cache has no complete build. */
export function ensureCluster (opts?: { log?: (message: string) => void }): string
