// Both sides of a wait: it never ends before its deadline, and it does not end long after it.
import { expect } from 'vitest';

// The lower bound is exact (a deadline never fires early; 1 ms for rounding between clocks). The
// upper bound is generous, for a loaded machine, yet tighter than a second: a deadline one second
// off, or a factor of 1000 off, fails it.
export function expectBounded(ms: number, timeoutMs: number, what: string): void {
  expect(ms, `${what}: a ${timeoutMs} ms timeout ended after ${ms.toFixed(0)} ms, before its deadline`).toBeGreaterThanOrEqual(timeoutMs - 1);
  expect(ms, `${what}: a ${timeoutMs} ms timeout ended after ${ms.toFixed(0)} ms, long after its deadline`).toBeLessThan(
    timeoutMs + Math.max(500, timeoutMs / 2),
  );
}
