/**
 * `@citrate-ipfs/contract/plain`: the contract's runtime values that need no
 * schema library — the error vocabulary, the registry's enumerations and the
 * formatting helpers. The core and the CLI import their values from here and
 * only types from the package root: TypeBox's root module loads 373 files
 * (260 ms of a 0.5 s CLI start-up, measured on a 2-core VM with Node 24), and
 * a `pull` validates nothing against a schema.
 */
export * from './errors.ts'
export * from './format.ts'
export * from './vocab.ts'
