export { checkPinName, pinAdd, pinRm, pinList, modelsBackedBy, type ModelRef, type PinAddOptions, type PinAddResult, type PinRmOptions, type PinListEntry, type PinProgressEvent } from './pins.ts'
export { collectGarbage, type GcOptions, type GcResult } from './gc.ts'
