// Code that runs inside child processes for the wait and lock tests (see testkit/children.ts).
import type { ErrorCode } from '../../lib/errors.js';
import { atPhaseOfSecond } from '../../testkit/clock.js';
import type { Fixture } from '../../testkit/protocol.js';
import { MiniRayError, ShmStore, type ObjectId } from '../index.js';

export interface Timed {
  readonly outcome: ErrorCode | 'ok';
  readonly message: string;
  readonly elapsedMs: number;
}

function timed(fn: () => void): Timed {
  const t0 = performance.now();
  try {
    fn();
    return { outcome: 'ok', message: '', elapsedMs: performance.now() - t0 };
  } catch (e) {
    if (!(e instanceof MiniRayError)) throw e;
    return { outcome: e.code, message: e.message, elapsedMs: performance.now() - t0 };
  }
}

// Creates the store, says 'created', puts one object and says 'put' (with its id), then keeps the
// store open until told 'close'.
export const createAndPut: Fixture<{ name: string; capacity: number }, void> = async ({ name, capacity }, ctx) => {
  const store = ShmStore.create(name, { capacity });
  await ctx.emit('created');
  await ctx.emit('put', store.put(Buffer.from('made by the creator')));
  await ctx.waitFor('close', 60_000);
  store.close();
};

export interface OpenResult extends Timed {
  readonly capacity?: number;
  readonly read?: string; // the object the parent named afterwards, as read by this process
}

// Says 'opening', then opens (and times it). Once open, waits for a 'read' signal carrying an id
// and reads that object.
export const openAndRead: Fixture<{ name: string; lockTimeoutMs: number }, OpenResult> = async ({ name, lockTimeoutMs }, ctx) => {
  await ctx.emit('opening');
  let store: ShmStore | undefined;
  const r = timed(() => {
    store = ShmStore.open(name, { lockTimeoutMs });
  });
  if (store === undefined) return r;
  await ctx.emit('opened');
  const id = (await ctx.waitFor('read', 30_000)) as ObjectId;
  const out: OpenResult = { ...r, capacity: store.stats().capacity, read: store.get(id).toString() };
  store.close();
  return out;
};

// Opens the store, says 'waiting', then puts one object (blocking while another process holds the
// lock) and reports how long the put took.
export const putWhenReady: Fixture<{ name: string; lockTimeoutMs: number; text: string }, Timed> = async (
  { name, lockTimeoutMs, text },
  ctx,
) => {
  const store = ShmStore.open(name, { lockTimeoutMs });
  await ctx.emit('waiting');
  const r = timed(() => store.put(Buffer.from(text)));
  store.close();
  return r;
};

// Opens the store, says 'waiting', then takes the lock (blocking while another process holds it)
// and gives it back at once; reports how that ended.
export const lockOnceWhenReady: Fixture<{ name: string; lockTimeoutMs: number }, Timed> = async ({ name, lockTimeoutMs }, ctx) => {
  const store = ShmStore.open(name, { lockTimeoutMs });
  await ctx.emit('waiting');
  const r = timed(() => {
    store.debug.lock();
    store.debug.unlock();
  });
  store.close();
  return r;
};

// Opens the store, says 'waiting', takes the lock (waiting for it if need be), says 'locked' and
// holds it until told 'release'.
export const lockWhenReady: Fixture<{ name: string }, void> = async ({ name }, ctx) => {
  const store = ShmStore.open(name, { lockTimeoutMs: 20_000 });
  await ctx.emit('waiting');
  store.debug.lock();
  await ctx.emit('locked', process.pid);
  await ctx.waitFor('release', 60_000);
  store.debug.unlock();
  store.close();
};

// Opens the store with `lockTimeoutMs`, waits until the clock is `phase` ms into a second, then
// tries `op` once (blocking while another process holds the lock) and reports how it ended.
export const timedAt: Fixture<
  { name: string; lockTimeoutMs: number; phase: number; op: 'put' | 'get' | 'stats'; id?: ObjectId },
  Timed
> = async ({ name, lockTimeoutMs, phase, op, id }) => {
  const store = ShmStore.open(name, { lockTimeoutMs });
  await atPhaseOfSecond(phase);
  const r = timed(() => {
    if (op === 'put') store.put(Buffer.from('from a third process'));
    else if (op === 'get') store.get(id as ObjectId);
    else store.stats();
  });
  store.close();
  return r;
};
