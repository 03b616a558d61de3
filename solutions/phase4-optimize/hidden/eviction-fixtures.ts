// Child-process code for the hidden suites of phase 4.
import type { Fixture } from '../../../testkit/protocol.js';
import { ObjectStore, type ObjectId } from '../../../phase4-optimize/index.js';
import { verifyChecked } from '../../../phase4-optimize/test/fixtures.js';

// Pins `id`, then takes the lock of `stripe` and says 'locked'. Told 'unlock', lets go of the
// stripe (keeping the pin) and says 'unlocked'; told 'release', checks the bytes it pinned are
// intact, releases its pin and closes. Returns whether the object read back intact.
export const pinAndHoldStripe: Fixture<{ name: string; id: ObjectId; stripe: number }, boolean> = async (
  { name, id, stripe },
  ctx,
) => {
  const store = ObjectStore.open(name);
  const view = store.get(id);
  store.debug.lock({ stripe });
  await ctx.emit('locked', process.pid);
  await ctx.waitFor('unlock', 60_000);
  store.debug.unlock({ stripe });
  await ctx.emit('unlocked');
  await ctx.waitFor('release', 60_000);
  const intact = verifyChecked(view);
  store.release(id);
  store.close();
  return intact;
};

// Creates `created` (left unsealed), pins `pinned`, says 'holding', and waits to be killed.
export const createAndPin: Fixture<{ name: string; created: ObjectId; size: number; pinned: ObjectId }, void> = async (
  { name, created, size, pinned },
  ctx,
) => {
  const store = ObjectStore.open(name);
  store.create(created, size);
  store.get(pinned);
  await ctx.emit('holding', process.pid);
  await ctx.waitFor('exit', 60_000);
  store.close();
};
