// Custom matchers whose failure messages read well to a student:
//   expect(() => store.get(id)).toThrowMiniRay('ERR_OBJECT_NOT_FOUND')
//   await expect(promise).toRejectMiniRay('ERR_TIMEOUT')
import { expect } from 'vitest';

import { MiniRayError, type ErrorCode } from '../lib/errors.js';

interface MiniRayMatchers<R = unknown> {
  toThrowMiniRay(code: ErrorCode, messageIncludes?: string): R;
  toRejectMiniRay(code: ErrorCode, messageIncludes?: string): Promise<R>;
}

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Assertion<T> extends MiniRayMatchers<T> {}
}

function describeError(e: unknown): string {
  if (e instanceof MiniRayError) return `MiniRayError ${e.code}: ${e.message}`;
  if (e instanceof Error) return `${e.name} (no MiniRay code): ${e.message}`;
  return `a non-error value: ${String(e)}`;
}

function judge(thrown: boolean, error: unknown, code: ErrorCode, includes: string | undefined) {
  if (!thrown) {
    return { pass: false, message: () => `expected a MiniRayError ${code}, but nothing was thrown` };
  }
  const pass =
    error instanceof MiniRayError && error.code === code && (includes === undefined || error.message.includes(includes));
  const want = includes === undefined ? code : `${code} whose message includes '${includes}'`;
  return {
    pass,
    message: () =>
      pass ? `expected anything but ${want}` : `expected a MiniRayError ${want}, but got ${describeError(error)}`,
  };
}

expect.extend({
  toThrowMiniRay(received: unknown, code: ErrorCode, includes?: string) {
    if (typeof received !== 'function') {
      return { pass: false, message: () => 'toThrowMiniRay expects a function: expect(() => ...)' };
    }
    try {
      (received as () => unknown)();
    } catch (e) {
      return judge(true, e, code, includes);
    }
    return judge(false, undefined, code, includes);
  },
  async toRejectMiniRay(received: unknown, code: ErrorCode, includes?: string) {
    try {
      await (received as Promise<unknown>);
    } catch (e) {
      return judge(true, e, code, includes);
    }
    return judge(false, undefined, code, includes);
  },
});
