// Hidden-suite fixtures for phase 2 (run inside child processes).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import type { Fixture } from '../../../testkit/protocol.js';
import { MiniRayError, ObjectStore, randomObjectId, type ObjectId } from '../../../phase2-objects/index.js';

const handles = new Map<string, ObjectStore>();

function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof MiniRayError) return e.code;
    return `non-MiniRay: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
  }
}

// Opens a handle and keeps it in this process (for runEverything) under `key`.
export const openHandle: Fixture<{ name: string; key: string }, string> = ({ name, key }) =>
  outcome(() => {
    handles.set(key, ObjectStore.open(name, { lockTimeoutMs: 300 }));
  });

// Every operation of the harness, on the handle kept under `key` (opened before the segment was
// damaged) and on one opened now; the outcome of each ('ok' or an error code). Nothing may kill
// this process.
export const runEverything: Fixture<
  { name: string; key: string; sealed: ObjectId; unsealed: ObjectId },
  string[]
> = ({ name, key, sealed, unsealed }) => {
  const out: string[] = [];
  const exercise = (store: ObjectStore): void => {
    const fresh = randomObjectId();
    out.push(outcome(() => store.contains(sealed)));
    out.push(outcome(() => store.contains(randomObjectId())));
    out.push(outcome(() => store.get(sealed)));
    out.push(outcome(() => store.release(sealed)));
    out.push(outcome(() => store.getMany([sealed, unsealed, fresh])));
    out.push(outcome(() => store.get(unsealed, { timeoutMs: 2 })));
    out.push(outcome(() => store.create(fresh, 100)));
    out.push(outcome(() => store.seal(fresh)));
    out.push(outcome(() => store.release(fresh)));
    out.push(outcome(() => store.put(Buffer.alloc(300, 1))));
    out.push(outcome(() => store.abort(unsealed)));
    out.push(outcome(() => store.delete(fresh)));
    out.push(outcome(() => store.delete(sealed)));
    out.push(outcome(() => store.stats()));
    out.push(outcome(() => store.reclaim()));
    out.push(outcome(() => store.debug.layout()));
    out.push(outcome(() => ObjectStore.check(name, { lockTimeoutMs: 300 })));
    out.push(outcome(() => store.close()));
  };
  const kept = handles.get(key);
  handles.delete(key);
  if (kept !== undefined) exercise(kept);
  let now: ObjectStore | undefined;
  out.push(
    outcome(() => {
      now = ObjectStore.open(name, { lockTimeoutMs: 300 });
    }),
  );
  if (now !== undefined) exercise(now);
  return out;
};

// Opens a handle, pins `id` through it, forgets the handle without close() and collects garbage
// until the handle's finalizer has run; then says 'collected' and stays alive until told 'exit'.
export const leakHandle: Fixture<{ name: string; id: ObjectId }, void> = async ({ name, id }, ctx) => {
  ((): void => {
    const store = ObjectStore.open(name);
    store.get(id);
  })();
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 5; i += 1) {
    gc();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await ctx.emit('collected', process.pid);
  await ctx.waitFor('exit', 30_000);
};

// Opens, runs contains() on `ids` when told 'go' (after the parent changed the segment under this
// open handle), and returns each outcome.
export const lookupsAfterChange: Fixture<{ name: string; ids: readonly ObjectId[] }, string[]> = async (
  { name, ids },
  ctx,
) => {
  const store = ObjectStore.open(name, { lockTimeoutMs: 300 });
  await ctx.emit('open');
  await ctx.waitFor('go', 20_000);
  const out = ids.flatMap((id) => [
    outcome(() => store.contains(id)),
    outcome(() => {
      store.get(id);
      store.release(id);
    }),
  ]);
  out.push(outcome(() => store.put(Buffer.alloc(64, 2))));
  out.push(outcome(() => store.stats()));
  out.push(outcome(() => store.close()));
  return out;
};

// Creates `count` unsealed objects of `size` bytes (not sealing them), says 'created', waits.
export const createManyAndHold: Fixture<{ name: string; count: number; size: number }, void> = async (
  { name, count, size },
  ctx,
) => {
  const store = ObjectStore.open(name);
  for (let i = 0; i < count; i += 1) store.create(randomObjectId(), size);
  await ctx.emit('created', process.pid);
  await ctx.waitFor('exit', 60_000);
};

// Pins `id`, then takes the store's lock and says 'locked' (to be killed holding both).
export const pinThenLock: Fixture<{ name: string; id: ObjectId }, void> = async ({ name, id }, ctx) => {
  const store = ObjectStore.open(name);
  store.get(id);
  store.debug.lock();
  await ctx.emit('locked', process.pid);
  await ctx.waitFor('never', 60_000);
};
