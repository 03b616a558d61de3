// Option bags from JavaScript callers that ignore the types: undefined or null mean "defaults";
// anything else that is not an object is ERR_INVALID_ARGUMENT, never a TypeError from deep inside.
import { MiniRayError } from './errors.js';

export function optionsOf<T extends object>(value: T | null | undefined, what = 'options'): Partial<T> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object') {
    throw new MiniRayError('ERR_INVALID_ARGUMENT', `${what} must be an object, got ${typeof value}`);
  }
  return value;
}
