// Code that runs inside child processes for the wait, lock and initialisation tests of phase 2
// (see testkit/children.ts).
import type { ErrorCode } from '../../lib/errors.js';
import { waitUntilAsleep } from '../../testkit/asleep.js';
import type { Fixture } from '../../testkit/protocol.js';
import { MiniRayError, ObjectStore, randomObjectId, type ObjectId } from '../index.js';
import { sha1 } from './fixtures.js';

export interface ManyResult {
  readonly outcome: ErrorCode | 'ok';
  readonly sha1s: ReadonlyArray<string | null>; // null where getMany returned null
  readonly elapsedMs: number;
}

// Waits in getMany() (sync or Promise) for `ids`, saying 'waiting' once the call is under way,
// then releases what it got and returns the checksums, or the error code.
export const waitMany: Fixture<{ name: string; ids: readonly ObjectId[]; timeoutMs: number; mode: 'sync' | 'async' }, ManyResult> = async (
  { name, ids, timeoutMs, mode },
  ctx,
) => {
  const store = ObjectStore.open(name, { lockTimeoutMs: 10_000 });
  const t0 = performance.now();
  try {
    let views: Array<Buffer | null>;
    if (mode === 'sync') {
      await ctx.emit('waiting');
      views = store.getMany(ids, { timeoutMs });
    } else {
      const pending = store.getManyAsync(ids, { timeoutMs });
      await ctx.emit('waiting');
      views = await pending;
    }
    const elapsedMs = performance.now() - t0;
    const sha1s = views.map((v) => (v === null ? null : sha1(v)));
    ids.forEach((id, i) => {
      if (views[i] !== null) store.release(id);
    });
    return { outcome: 'ok', sha1s, elapsedMs };
  } catch (e) {
    if (!(e instanceof MiniRayError)) throw e;
    return { outcome: e.code, sha1s: [], elapsedMs: performance.now() - t0 };
  } finally {
    store.close();
  }
};

// Creates the store, says 'created', puts one object and says 'put' (with its id), then keeps the
// store open until told 'close'.
export const createAndPut: Fixture<{ name: string; capacity: number }, void> = async ({ name, capacity }, ctx) => {
  const store = ObjectStore.create(name, { capacity, tableSize: 64 });
  await ctx.emit('created');
  await ctx.emit('put', store.put(Buffer.from('made by the creator')));
  await ctx.waitFor('close', 60_000);
  store.close();
};

export interface OpenResult {
  readonly outcome: ErrorCode | 'ok';
  readonly message: string;
  readonly capacity?: number;
  readonly read?: string;
}

// Says 'opening', then opens. Once open, says 'opened', waits for a 'read' signal carrying an id and
// reads that object.
export const openAndRead: Fixture<{ name: string; lockTimeoutMs: number }, OpenResult> = async ({ name, lockTimeoutMs }, ctx) => {
  await ctx.emit('opening');
  let store: ObjectStore;
  try {
    store = ObjectStore.open(name, { lockTimeoutMs });
  } catch (e) {
    if (!(e instanceof MiniRayError)) throw e;
    return { outcome: e.code, message: e.message };
  }
  await ctx.emit('opened');
  const id = (await ctx.waitFor('read', 30_000)) as ObjectId;
  const view = store.get(id);
  const out: OpenResult = { outcome: 'ok', message: '', capacity: store.stats().capacity, read: view.toString() };
  store.release(id);
  store.close();
  return out;
};

export interface WokenResult {
  readonly outcome: ErrorCode | 'ok';
  readonly sha1?: string;
  readonly returnedAt: number; // Date.now() when the wait returned
}

// Waits for `id` (get, getAsync or getMany of it and `also`), saying 'waiting' once the wait is
// under way; reports when it returned, so the parent can tell a wake-up from a timeout.
export const waitOne: Fixture<
  { name: string; id: ObjectId; timeoutMs: number; mode: 'sync' | 'async' | 'many'; also?: ObjectId; holdOpen?: boolean },
  WokenResult
> = async ({ name, id, timeoutMs, mode, also, holdOpen }, ctx) => {
  const store = ObjectStore.open(name, { lockTimeoutMs: 10_000 });
  try {
    let view: Buffer;
    if (mode === 'sync') {
      await ctx.emit('waiting');
      view = store.get(id, { timeoutMs });
    } else if (mode === 'async') {
      const pending = store.getAsync(id, { timeoutMs });
      await ctx.emit('waiting');
      view = await pending;
    } else {
      const ids = also === undefined ? [id] : [also, id];
      await ctx.emit('waiting');
      const views = store.getMany(ids, { timeoutMs });
      const got = views.at(-1);
      if (got === null || got === undefined) return { outcome: 'ERR_TIMEOUT', returnedAt: Date.now() };
      view = got;
      if (also !== undefined && views[0] !== null) store.release(also);
    }
    const returnedAt = Date.now();
    const out: WokenResult = { outcome: 'ok', sha1: sha1(view), returnedAt };
    store.release(id);
    return out;
  } catch (e) {
    if (!(e instanceof MiniRayError)) throw e;
    return { outcome: e.code, returnedAt: Date.now() };
  } finally {
    // With holdOpen, the handle stays open until told 'close': close() wakes every waiter of the
    // segment, so a waiter that closes at once would wake the others a seal did not wake.
    if (holdOpen === true) {
      await ctx.emit('returned');
      await ctx.waitFor('close', 30_000);
    }
    store.close();
  }
};

export interface TimedResult {
  readonly outcome: ErrorCode | 'ok';
  readonly elapsedMs: number;
}

// Runs one operation of a fresh handle (opened with `lockTimeoutMs`) and times it.
export const timedOp: Fixture<
  { name: string; lockTimeoutMs: number; op: 'get' | 'getAsync' | 'getMany' | 'contains' | 'stats'; id: ObjectId; timeoutMs?: number },
  TimedResult
> = async ({ name, lockTimeoutMs, op, id, timeoutMs }) => {
  const store = ObjectStore.open(name, { lockTimeoutMs });
  const t0 = performance.now();
  try {
    const o = { timeoutMs: timeoutMs ?? 0 };
    if (op === 'get') store.get(id, o);
    else if (op === 'getAsync') await store.getAsync(id, o);
    else if (op === 'getMany') store.getMany([id], o);
    else if (op === 'contains') store.contains(id);
    else store.stats();
    return { outcome: 'ok', elapsedMs: performance.now() - t0 };
  } catch (e) {
    if (!(e instanceof MiniRayError)) throw e;
    return { outcome: e.code, elapsedMs: performance.now() - t0 };
  } finally {
    store.close();
  }
};

// Opens a handle (with `lockTimeoutMs`) and says 'opened'; on 'go' runs each of `ops` in turn and
// times it. Opening first lets a test take the lock between the open and the operations.
export const timedOpsOfOpenHandle: Fixture<
  { name: string; lockTimeoutMs: number; ops: ReadonlyArray<'get' | 'getAsync' | 'getMany' | 'contains' | 'stats'>; id: ObjectId },
  TimedResult[]
> = async ({ name, lockTimeoutMs, ops, id }, ctx) => {
  const store = ObjectStore.open(name, { lockTimeoutMs });
  try {
    await ctx.emit('opened');
    await ctx.waitFor('go', 30_000);
    const out: TimedResult[] = [];
    for (const op of ops) {
      const t0 = performance.now();
      try {
        if (op === 'get') store.get(id, { timeoutMs: 0 });
        else if (op === 'getAsync') await store.getAsync(id, { timeoutMs: 0 });
        else if (op === 'getMany') store.getMany([id], { timeoutMs: 0 });
        else if (op === 'contains') store.contains(id);
        else store.stats();
        out.push({ outcome: 'ok', elapsedMs: performance.now() - t0 });
      } catch (e) {
        if (!(e instanceof MiniRayError)) throw e;
        out.push({ outcome: e.code, elapsedMs: performance.now() - t0 });
      }
    }
    return out;
  } finally {
    store.close();
  }
};

// Starts an untimed getAsync of an object nobody creates, waits until this process sleeps on it,
// then closes the handle and reports how long the get took to give up.
export const closeWhileWaiting: Fixture<{ name: string }, TimedResult> = async ({ name }) => {
  const store = ObjectStore.open(name);
  const pending = store.getAsync(randomObjectId(), { timeoutMs: -1 });
  pending.catch(() => undefined);
  await waitUntilAsleep(process.pid, name);
  const t0 = performance.now();
  store.close();
  try {
    await pending;
    return { outcome: 'ok', elapsedMs: performance.now() - t0 };
  } catch (e) {
    if (!(e instanceof MiniRayError)) throw e;
    return { outcome: e.code, elapsedMs: performance.now() - t0 };
  }
};
