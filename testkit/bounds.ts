// Both sides of a wait: it never ends before its deadline, and it does not end long after it. And
// the thing most bounded waits wait for: the lock, held by another process until the test lets go.
import { expect } from 'vitest';

import { spawnChild, type Child, type FixtureModule } from './children.js';
import type { Fixture } from './protocol.js';

// The lower bound is exact (a deadline never fires early; 1 ms for rounding between clocks). The
// upper bound is generous, for a loaded machine, yet tighter than a second: a deadline one second
// off, or a factor of 1000 off, fails it.
export function expectBounded(ms: number, timeoutMs: number, what: string): void {
  expect(ms, `${what}: a ${timeoutMs} ms timeout ended after ${ms.toFixed(0)} ms, before its deadline`).toBeGreaterThanOrEqual(timeoutMs - 1);
  expect(ms, `${what}: a ${timeoutMs} ms timeout ended after ${ms.toFixed(0)} ms, long after its deadline`).toBeLessThan(
    timeoutMs + Math.max(500, timeoutMs / 2),
  );
}

// How long a holder may hold the lock, at most: the phases' holdLock fixtures let go after 60 s.
const HOLD_LIMIT_MS = 75_000;

// A phase's fixture module that can hold its store's lock: `holdLock` opens the store, locks it,
// emits 'locked' and waits for the 'release' signal before it unlocks and closes.
export type HoldsLock = { readonly holdLock: Fixture<{ name: string }, void> };

export interface LockHolder {
  readonly child: Child;
  // Lets go of the lock and waits until the holder has unlocked and closed.
  release(): Promise<void>;
}

// A child process holding the lock of store `name`, from the moment this resolves until release()
// (or until the test kills the child: then release() is never called, and nothing is left waiting).
export async function holdLockInChild(fx: FixtureModule<HoldsLock>, name: string): Promise<LockHolder> {
  const child = await spawnChild({ label: 'holder' });
  // The fixture bounds its own hold (60 s until 'release'); the run's limit lies beyond it, not at the
  // default 15 s, which a test of several long waits on a loaded machine outlasts.
  const holding = child.run(fx, 'holdLock', { name }, HOLD_LIMIT_MS);
  holding.catch(() => undefined); // a holder the test kills never returns
  await child.waitEvent('locked');
  return {
    child,
    release: async () => {
      child.signal('release');
      await holding;
    },
  };
}
