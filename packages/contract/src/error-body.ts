/** The body of every failed call. */
import { Type, type Static } from 'typebox'

/**
 * Branch on `code`, show `message`. `code` is a string rather than the
 * ErrorCode union: the service adds transport codes of its own (UNAUTHORIZED,
 * INVALID_JSON, …), and a client must survive a code newer than itself.
 */
export const ErrorBody = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String() })
})
export type ErrorBody = Static<typeof ErrorBody>
