/**
 * Model ids become folder names under models_path, so they are checked, not
 * trusted: no separators, no dot segments, nothing Windows cannot create.
 */
import { InvalidModelIdError } from '../errors.ts'

const MAX_ID_LENGTH = 128
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i

/** Returns the id (trimmed) if it is safe as a folder name; throws InvalidModelIdError naming it otherwise. */
export function sanitizeModelId (input: string): string {
  if (typeof input !== 'string') throw new InvalidModelIdError(String(input), 'expected a string')
  const id = input.trim()
  if (id === '') throw new InvalidModelIdError(input, 'it is empty')
  if (id.length > MAX_ID_LENGTH) throw new InvalidModelIdError(input, `it is longer than ${MAX_ID_LENGTH} characters`)
  if (id === '.' || id === '..') throw new InvalidModelIdError(input, 'dot segments are not allowed')
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(id)) {
    throw new InvalidModelIdError(input, 'use letters, digits and . _ + - only, starting with a letter or digit')
  }
  if (id.endsWith('.')) throw new InvalidModelIdError(input, 'it must not end with a dot')
  if (WINDOWS_RESERVED.test(id)) throw new InvalidModelIdError(input, 'it is a reserved device name on Windows')
  return id
}

/** Derives a valid id from a file or folder name (used when --name is not given). */
export function modelIdFromName (name: string): string {
  const id = name.trim().replace(/[^A-Za-z0-9._+-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').replace(/\.+$/, '').slice(0, MAX_ID_LENGTH)
  return sanitizeModelId(id === '' ? 'model' : id)
}
