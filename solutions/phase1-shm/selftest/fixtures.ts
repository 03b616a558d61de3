// Child-process code for the phase-1 reference's self-tests.
import type { Fixture } from '../../../testkit/protocol.js';
import { attempt, type OpOutcome } from '../../../testkit/hostile.js';
import { ShmStore } from '../../../phase1-shm/index.js';

// Opens the store, takes its lock and reports 'locked'; then waits to be killed.
export const lockAndWait: Fixture<{ name: string }, void> = async ({ name }, ctx) => {
  const store = ShmStore.open(name);
  store.debug.lock();
  await ctx.emit('locked');
  await ctx.waitFor('never', 60_000);
};

// Opens the store and locks it once, reporting the outcome.
export const openAndLock: Fixture<{ name: string }, OpOutcome[]> = ({ name }) => {
  let store: ShmStore | undefined;
  const out = [
    attempt('open', () => {
      store = ShmStore.open(name, { lockTimeoutMs: 20 });
    }),
  ];
  const s = store;
  if (s !== undefined) {
    out.push(attempt('put', () => s.put(Buffer.from('x'))));
    s.close();
  }
  return out;
};
