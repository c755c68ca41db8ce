export { verifyContent, type VerifyOptions, type VerifyResult, type VerifyProgressEvent } from './verify.ts'
export { verifyModel, type VerifyModelOptions, type ModelVerifyResult } from './model.ts'
