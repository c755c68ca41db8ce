// Types of build.mjs for the TypeScript test helper.
export function wanproxySourceHash (): string
export function cachedWanproxyPath (hash?: string): string
export function ensureWanproxy (opts?: { log?: (message: string) => void }): string
