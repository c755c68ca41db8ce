/** The registry's enumerations as plain values (model.ts builds its schemas from them). */
export const MODEL_KINDS = ['model', 'dataset', 'checkpoint'] as const
export const MODEL_SOURCES = ['ipfs', 'gateway', 'local'] as const
