// useSandbox(): call once at the top of a test file. After every test, even a failed one, it kills
// every child the test started and removes every segment it named.
import { afterAll, afterEach } from 'vitest';

import { killAllChildren } from './children.js';
import { removeTrackedSegments, uniqueSegmentName } from './segments.js';

export interface Sandbox {
  // A fresh, tracked segment name.
  segment(tag?: string): string;
}

export function useSandbox(): Sandbox {
  const cleanup = async (): Promise<void> => {
    await killAllChildren();
    removeTrackedSegments();
  };
  afterEach(cleanup);
  afterAll(cleanup);
  return { segment: (tag) => uniqueSegmentName(tag) };
}
