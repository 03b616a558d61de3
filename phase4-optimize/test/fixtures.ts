// Code that runs inside child processes during phase-4 tests (see testkit/children.ts), and
// helpers the tests share.
import type { ErrorCode } from '../../lib/errors.js';
import { patternBytes, sha1 } from '../../testkit/data.js';
import type { Fixture } from '../../testkit/protocol.js';
import { MiniRayError, ObjectStore, randomObjectId, type LockRef, type ObjectId } from '../index.js';

export { patternBytes, sha1 };

// `n` random ids of stripe `stripe` in a store of `stripes` stripes.
export function idsOfStripe(n: number, stripes: number, stripe: number): ObjectId[] {
  const out: ObjectId[] = [];
  while (out.length < n) {
    const id = randomObjectId();
    if (ObjectStore.stripeOf(id, stripes) === stripe) out.push(id);
  }
  return out;
}

// `n` random ids of stripe `stripe` whose probes all start at slot `home` of that stripe.
export function collidingIds(n: number, stripes: number, stripe: number, slotsPerStripe: number, home = 0): ObjectId[] {
  const out: ObjectId[] = [];
  while (out.length < n) {
    const id = randomObjectId();
    if (ObjectStore.stripeOf(id, stripes) === stripe && ObjectStore.homeSlotOf(id, slotsPerStripe) === home) out.push(id);
  }
  return out;
}

// A self-checking object: [seed u32][size u32][pattern(seed)...]; any process can verify it.
export function checkedObject(seed: number, size: number): Buffer {
  const n = Math.max(size, 8);
  const out = patternBytes(seed, n);
  out.writeUInt32LE(seed >>> 0, 0);
  out.writeUInt32LE(n, 4);
  return out;
}
export function verifyChecked(view: Uint8Array): boolean {
  if (view.length < 8) return false;
  const buf = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  return checkedObject(buf.readUInt32LE(0), view.length).equals(buf) && buf.readUInt32LE(4) === view.length;
}

// The error code of whatever `fn` throws ('ok' when it does not throw).
export function outcome(fn: () => unknown): ErrorCode | 'ok' | `non-MiniRay: ${string}` {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof MiniRayError) return e.code;
    return `non-MiniRay: ${(e as Error).message}`;
  }
}

// Takes one of the store's locks, says 'locked', holds it until told 'release'.
export const holdLock: Fixture<{ name: string; lock: LockRef }, void> = async ({ name, lock }, ctx) => {
  const store = ObjectStore.open(name);
  store.debug.lock(lock);
  await ctx.emit('locked', process.pid);
  await ctx.waitFor('release', 60_000);
  store.debug.unlock(lock);
  store.close();
};

// Gets and releases each id in turn: in this process, the release makes it the most recently used.
export const touch: Fixture<{ name: string; ids: ObjectId[] }, void> = ({ name, ids }) => {
  const store = ObjectStore.open(name);
  for (const id of ids) {
    store.get(id);
    store.release(id);
  }
  store.close();
};

// Pins `id`, says 'pinned', holds the pin until told 'release'.
export const pinAndHold: Fixture<{ name: string; id: ObjectId }, void> = async ({ name, id }, ctx) => {
  const store = ObjectStore.open(name);
  store.get(id);
  await ctx.emit('pinned');
  await ctx.waitFor('release', 60_000);
  store.release(id);
  store.close();
};

export interface TimedOutcome {
  readonly outcome: string;
  readonly elapsedMs: number;
}

export interface TimedOp {
  readonly op: 'get' | 'getRelease' | 'contains' | 'create' | 'release';
  readonly id: ObjectId;
  readonly size?: number;
}

// Opens the store (open() itself takes the allocator lock), says 'ready', waits for 'go', then
// runs each operation with a lock timeout of `lockTimeoutMs`: what each returned, how long it took.
export const timedOps: Fixture<{ name: string; lockTimeoutMs: number; ops: TimedOp[] }, TimedOutcome[]> = async (
  { name, lockTimeoutMs, ops },
  ctx,
) => {
  const store = ObjectStore.open(name, { lockTimeoutMs });
  await ctx.emit('ready');
  await ctx.waitFor('go', 30_000);
  const out: TimedOutcome[] = [];
  for (const { op, id, size } of ops) {
    const t0 = performance.now();
    const result = outcome(() => {
      if (op === 'get') store.get(id);
      else if (op === 'getRelease') {
        store.get(id);
        store.release(id);
      } else if (op === 'contains') store.contains(id);
      else if (op === 'release') store.release(id);
      else store.create(id, size ?? 100);
    });
    out.push({ outcome: result, elapsedMs: performance.now() - t0 });
  }
  store.close();
  return out;
};

export interface ChurnReport {
  readonly failures: string[];
  readonly intact: number; // reads that returned the object's exact bytes
  readonly absent: number; // reads of an object that had been evicted (ERR_OBJECT_NOT_FOUND)
  readonly created: number;
  readonly full: number; // creates refused with ERR_SHM_FULL (everything else pinned)
}

// Creates, reads, releases and deletes self-checking objects in a store too small for them all:
// eviction runs all the time. Every read must be the exact object or cleanly absent.
export const churn: Fixture<
  { name: string; child: number; ops: number; seed: number; maxSize: number; shared?: ObjectId[] },
  ChurnReport
> = async ({ name, child, ops, seed, maxSize, shared }, ctx) => {
  const store = ObjectStore.open(name, { lockTimeoutMs: 20_000 });
  await ctx.emit('ready');
  await ctx.waitFor('go', 20_000);
  const failures: string[] = [];
  const mine: ObjectId[] = [];
  let intact = 0;
  let absent = 0;
  let created = 0;
  let full = 0;
  let state = (seed * 7919 + child * 104729) >>> 0;
  const rand = (n: number): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
  const read = (id: ObjectId): void => {
    try {
      const view = store.get(id);
      if (!verifyChecked(view)) failures.push(`object ${id} read back damaged`);
      else intact += 1;
      store.release(id);
    } catch (e) {
      if (e instanceof MiniRayError && e.code === 'ERR_OBJECT_NOT_FOUND') absent += 1;
      else failures.push(`get ${id}: ${(e as Error).message}`);
    }
  };
  for (let i = 0; i < ops && failures.length < 5; i += 1) {
    const r = rand(10);
    if (r < 4 || mine.length === 0) {
      const size = 1 + rand(maxSize);
      try {
        mine.push(store.put(checkedObject(child * 1_000_000 + i, size)));
        created += 1;
      } catch (e) {
        if (e instanceof MiniRayError && e.code === 'ERR_SHM_FULL') full += 1;
        else failures.push(`put of ${size} bytes: ${(e as Error).message}`);
      }
    } else if (r < 8) {
      read(mine[rand(mine.length)]!);
    } else if (r < 9 && shared !== undefined && shared.length > 0) {
      read(shared[rand(shared.length)]!);
    } else {
      const id = mine.splice(rand(mine.length), 1)[0]!;
      try {
        store.delete(id);
      } catch (e) {
        if (!(e instanceof MiniRayError && e.code === 'ERR_OBJECT_NOT_FOUND')) failures.push(`delete ${id}: ${(e as Error).message}`);
      }
    }
  }
  store.close();
  return { failures, intact, absent, created, full };
};

// Puts a self-checking object under `id` in this process.
export const putChecked: Fixture<{ name: string; id: ObjectId; seed: number; size: number }, void> = ({ name, id, seed, size }) => {
  const store = ObjectStore.open(name);
  store.put(checkedObject(seed, size), id);
  store.close();
};

// Says 'waiting' with its pid, then waits in get() for `id` (sync: the process sleeps in the
// kernel, which the test can see); stays open after the get returns, until told 'close'.
export const waitGet: Fixture<{ name: string; id: ObjectId; timeoutMs: number }, TimedOutcome> = async (
  { name, id, timeoutMs },
  ctx,
) => {
  const store = ObjectStore.open(name, { lockTimeoutMs: 20_000 });
  await ctx.emit('waiting', process.pid);
  const t0 = performance.now();
  const result = outcome(() => {
    if (!verifyChecked(store.get(id, { timeoutMs }))) throw new Error('damaged');
  });
  const elapsedMs = performance.now() - t0;
  await ctx.emit('returned');
  await ctx.waitFor('close', 30_000);
  store.close();
  return { outcome: result, elapsedMs };
};

// Pins `id`, then takes `lock` and says 'locked': a process to be killed holding both.
export const pinThenHoldLock: Fixture<{ name: string; id: ObjectId; lock: LockRef }, void> = async ({ name, id, lock }, ctx) => {
  const store = ObjectStore.open(name);
  store.get(id);
  store.debug.lock(lock);
  await ctx.emit('locked', process.pid);
  await ctx.waitFor('release', 60_000);
  store.debug.unlock(lock);
  store.close();
};
