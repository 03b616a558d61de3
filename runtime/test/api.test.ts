// The runtime's API on one shared runtime of two worker processes: exact results, values and
// zero-copy views, chained tasks, errors carried back with the remote stack, wait(), and objects
// freed so that a long run does not fill the store.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeEach, describe, expect, it } from 'vitest';

import { removeTrackedSegments } from '../../testkit/segments.js';
import { ObjectStore } from '../../phase2-objects/index.js';
import { RemoteTaskError, init, resultBuffer, type Runtime } from '../index.js';
import type * as Tasks from './tasks.js';
import { checksum, pattern } from './tasks.js';
import { TASKS, testSegments } from './helpers.js';

const STORE_BYTES = 4 << 20; // small on purpose: the long run below moves 4x this through it
// Worker processes take seconds to start on a loaded machine: every test allows for it.
const SLOW = { timeout: 120_000 };
const SEGMENTS = testSegments('api');
let started: Promise<Runtime> | undefined;
let rt: Runtime;
let probe: ObjectStore | undefined; // this process's own handle on the runtime's store, to look inside

// The one runtime of this file, started by the first test that needs it (inside a test, so that
// its start counts against that test's timeout, not against loading the file).
beforeEach(async () => {
  started ??= init({ workers: 2, memory: STORE_BYTES, maxObjects: 256, segments: SEGMENTS });
  rt = await started;
  probe ??= ObjectStore.open(SEGMENTS.store);
}, SLOW.timeout);

afterAll(async () => {
  probe?.close();
  await (await started?.catch(() => undefined))?.shutdown();
  removeTrackedSegments();
});

describe('objects are freed', SLOW, () => {
  it('free() deletes objects at once: 4x the store\'s capacity goes through it and it ends as it began', async () => {
    const before = rt.stats().store;
    const patternFn = rt.remote<typeof Tasks.pattern>(TASKS, 'pattern');
    const size = 256 << 10;
    for (let round = 0; round < 8; round += 1) {
      const refs = Array.from({ length: 8 }, (_, i) => patternFn.remote(size, round * 8 + i + 1));
      const views = await rt.get(refs, { timeoutMs: 90_000 });
      views.forEach((v, i) => expect(checksum(v)).toBe(checksum(pattern(size, round * 8 + i + 1))));
      rt.free(refs); // the views are given up too
    }
    const after = rt.stats();
    expect(after.store.objectCount).toBe(before.objectCount);
    expect(after.store.usedBytes).toBe(before.usedBytes);
    expect(after.store.pinned).toBe(0);
    expect(after.scheduler.tasks).toBe(0); // every finished task collected
    expect(after.scheduler.completed).toBe(64);
  });
});

describe('free()', SLOW, () => {
  it('free() deletes the object at once; get() of the freed ref and a task that takes it are refused with ERR_OBJECT_NOT_FOUND', async () => {
    const ref = rt.put(pattern(100_000, 3));
    const store = probe as ObjectStore;
    expect(store.contains(ref.id)).toBe(true);
    rt.free(ref);
    expect(store.contains(ref.id)).toBe(false);
    rt.free(ref); // a second free is a no-op
    await expect(rt.get(ref, { timeoutMs: 1000 })).toRejectMiniRay('ERR_OBJECT_NOT_FOUND', 'was freed');
    expect(() => rt.remote<typeof Tasks.checksumAfter>(TASKS, 'checksumAfter').remote(ref)).toThrowMiniRay('ERR_OBJECT_NOT_FOUND', 'was freed');
  });

  it('free() of an input a pending task takes waits for that task: it reads the input intact, then the input is deleted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'miniray-rt-'));
    const gatePath = join(dir, 'go');
    try {
      const store = probe as ObjectStore;
      const bytes = pattern(200_000, 11);
      const input = rt.put(bytes);
      const gate = rt.remote<typeof Tasks.whenFileExists>(TASKS, 'whenFileExists').remote(gatePath, 60_000);
      const out = rt.remote<typeof Tasks.checksumAfter>(TASKS, 'checksumAfter').remote(input, gate);
      rt.free(input);
      expect(store.contains(input.id)).toBe(true); // out has not run: its input stays
      // Other objects come and go meanwhile; none may take the input's bytes.
      for (let i = 0; i < 4; i += 1) rt.free(rt.put(pattern(200_000, 100 + i)));
      writeFileSync(gatePath, 'go');
      expect(await rt.get(out, { timeoutMs: 90_000 })).toBe(checksum(bytes));
      expect(store.contains(input.id)).toBe(false); // deleted as soon as out was collected
      rt.free([gate, out]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('remote functions', SLOW, () => {
  it('f.remote() runs in the worker processes and get() returns every result exactly, in order', async () => {
    const square = rt.remote<typeof Tasks.square>(TASKS, 'square');
    const refs = Array.from({ length: 40 }, (_, i) => square.remote(i));
    expect(await rt.get(refs, { timeoutMs: 90_000 })).toEqual(Array.from({ length: 40 }, (_, i) => i * i));
    const who = await rt.get(Array.from({ length: 6 }, () => rt.remote<typeof Tasks.whoAmI>(TASKS, 'whoAmI').remote()), { timeoutMs: 90_000 });
    for (const w of who) {
      expect(rt.workerPids()).toContain(w.pid);
      expect(w.pid).not.toBe(process.pid);
      expect(w.attempt).toBe(1);
    }
  });

  it('a ref of an unfinished task is a valid argument: the task runs once its inputs exist', async () => {
    const square = rt.remote<typeof Tasks.square>(TASKS, 'square');
    const add = rt.remote<typeof Tasks.add>(TASKS, 'add');
    const total = add.remote(add.remote(square.remote(3), square.remote(4)), 100);
    expect(await rt.get(total, { timeoutMs: 90_000 })).toBe(125);
  });

  it('a function is named by module and export; a name longer than the scheduler takes is refused', () => {
    expect(rt.remote(TASKS, 'square').name).toBe('runtime/test/tasks.ts#square');
    expect(() => rt.remote(TASKS, 'x'.repeat(120))).toThrowMiniRay('ERR_INVALID_ARGUMENT', 'at most 127 bytes');
  });
});

describe('objects', SLOW, () => {
  it('put() keeps Buffers and typed arrays as raw bytes: get() returns a zero-copy view of the store', async () => {
    const floats = Float64Array.from({ length: 1000 }, (_, i) => i / 7);
    const got = await rt.get(rt.put(floats), { timeoutMs: 1000 });
    expect(got).toBeInstanceOf(Float64Array);
    expect(Array.from(got)).toEqual(Array.from(floats));
    expect(got.buffer.byteLength).toBeGreaterThanOrEqual(STORE_BYTES); // a window on the mapping, not a copy
    const bytes = pattern(10_000, 7);
    const back = await rt.get(rt.put(bytes), { timeoutMs: 1000 });
    expect(Buffer.isBuffer(back)).toBe(true);
    expect(back.equals(bytes)).toBe(true);
  });

  it('put() of any other value goes through v8.serialize and comes back equal', async () => {
    const value = { name: 'tile', at: [3, 4], tags: new Set(['a']), when: new Date(0), big: 2n ** 70n };
    expect(await rt.get(rt.put(value), { timeoutMs: 1000 })).toEqual(value);
  });

  it('an ObjectRef argument reaches the worker as a zero-copy view of the store', async () => {
    const floats = Float64Array.from({ length: 4096 }, (_, i) => i);
    const r = rt.remote<typeof Tasks.sumFloats>(TASKS, 'sumFloats').remote(rt.put(floats));
    expect(await rt.get(r, { timeoutMs: 90_000 })).toEqual({ sum: (4095 * 4096) / 2, viewOfStore: true });
  });
});

// The store holds exactly the objects, bytes and pins it held before: nothing was left behind.
function expectStoreAsBefore(before: ReturnType<Runtime['stats']>['store']): void {
  const after = rt.stats().store;
  expect(after.objectCount).toBe(before.objectCount);
  expect(after.usedBytes).toBe(before.usedBytes);
  expect(after.pinned).toBe(before.pinned);
}

describe('results written in place (resultBuffer)', SLOW, () => {
  it('a task that writes its result into resultBuffer() returns exactly those bytes, read back as a zero-copy view; a typed array over it keeps its type', async () => {
    const before = rt.stats().store;
    const n = 300_001; // not a multiple of 8: the object is exactly as long as asked
    const refs = [1, 2, 3].map((seed) => rt.remote<typeof Tasks.patternInPlace>(TASKS, 'patternInPlace').remote(n, seed));
    const views = await rt.get(refs, { timeoutMs: 90_000 });
    views.forEach((v, i) => {
      expect(Buffer.isBuffer(v)).toBe(true);
      expect(v.byteLength).toBe(n);
      expect(v.equals(pattern(n, i + 1))).toBe(true);
      expect(v.buffer.byteLength).toBeGreaterThanOrEqual(STORE_BYTES); // a window on the mapping
    });
    const halvesRef = rt.remote<typeof Tasks.halvesInPlace>(TASKS, 'halvesInPlace').remote(1000);
    const halves = await rt.get(halvesRef, { timeoutMs: 90_000 });
    expect(halves).toBeInstanceOf(Float64Array);
    expect(Array.from(halves)).toEqual(Array.from({ length: 1000 }, (_, i) => i / 2));
    const during = rt.stats().store;
    expect(during.objectCount - before.objectCount).toBe(4);
    expect(during.usedBytes - before.usedBytes).toBeGreaterThanOrEqual(3 * n + 8000);
    rt.free([...refs, halvesRef]);
    expectStoreAsBefore(before);
  });

  it('a task that throws after writing half its resultBuffer() fails with its own error and leaves no object behind', async () => {
    const before = rt.stats().store;
    const refs = Array.from({ length: 4 }, () => rt.remote<typeof Tasks.throwWhileWriting>(TASKS, 'throwWhileWriting').remote(64 << 10));
    for (const ref of refs) {
      const err = await rt.get(ref, { timeoutMs: 90_000 }).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(RemoteTaskError);
      expect((err as RemoteTaskError).remote?.name).toBe('ParseFailure');
      expect((err as RemoteTaskError).message).toContain('gave up after 32768 bytes');
    }
    rt.free(refs); // the error objects
    expectStoreAsBefore(before);
  });

  it('a task that returns another value than its resultBuffer() has that value stored, and the buffer given back; a second resultBuffer() in one task is an error', async () => {
    const before = rt.stats().store;
    const other = rt.remote<typeof Tasks.returnOtherThanBuffer>(TASKS, 'returnOtherThanBuffer').remote(256 << 10);
    const got = await rt.get(other, { timeoutMs: 90_000 });
    expect(got.windowBytes).toBeGreaterThanOrEqual(STORE_BYTES); // it was the store's memory
    const twice = rt.remote<typeof Tasks.resultBufferTwice>(TASKS, 'resultBufferTwice').remote(1024);
    await expect(rt.get(twice, { timeoutMs: 90_000 })).rejects.toThrow(/resultBuffer\(\) may be called once a task/);
    rt.free([other, twice]);
    expectStoreAsBefore(before);
  });

  it('outside a worker resultBuffer() is a Buffer of the process\'s own memory; a byte count that is not one is refused', () => {
    const own = resultBuffer(10);
    expect(own.byteLength).toBe(10);
    expect(own.buffer.byteLength).toBeLessThan(STORE_BYTES);
    expect(() => resultBuffer(-1)).toThrow(RangeError);
    expect(() => resultBuffer(1.5)).toThrow(RangeError);
  });
});

describe('errors', SLOW, () => {
  it('an error thrown by a task reaches get() as RemoteTaskError with its name and remote stack', async () => {
    const ref = rt.remote<typeof Tasks.failDeep>(TASKS, 'failDeep').remote('3.x');
    const err = await rt.get(ref, { timeoutMs: 90_000 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RemoteTaskError);
    const e = err as RemoteTaskError;
    expect(e.code).toBe('ERR_TASK_FAILED');
    expect(e.remote?.name).toBe('ParseFailure');
    expect(e.message).toContain("cannot parse '3.x'");
    expect(e.stack).toMatch(/at failDeep \(.*runtime\/test\/tasks\.ts:\d+/);
  });

  it('a task whose argument failed fails with that error, without running', async () => {
    const bad = rt.remote<typeof Tasks.failDeep>(TASKS, 'failDeep').remote('y');
    const started: string[] = [];
    const on = (e: { fn: string }): void => void started.push(e.fn);
    rt.events.on('task-start', on);
    const dependent = rt.remote<typeof Tasks.onlyAfterFailure>(TASKS, 'onlyAfterFailure').remote(bad as never);
    await expect(rt.get(dependent, { timeoutMs: 90_000 })).rejects.toThrow(/cannot parse 'y'/);
    // No other test calls onlyAfterFailure, so a start of it seen here is this dependent's (a
    // start note of another test's task may still arrive late: the notes travel by IPC).
    rt.events.off('task-start', on);
    expect(started).not.toContain('runtime/test/tasks.ts#onlyAfterFailure');
  });

  it('a missing export fails the task with a clear error, and the worker goes on', async () => {
    await expect(rt.get(rt.remote(TASKS, 'noSuchFunction').remote(), { timeoutMs: 90_000 })).rejects.toThrow(/has no exported function 'noSuchFunction'/);
    expect(await rt.get(rt.remote<typeof Tasks.square>(TASKS, 'square').remote(9), { timeoutMs: 90_000 })).toBe(81);
  });
});

describe('wait', SLOW, () => {
  it('wait() returns as soon as numReturns refs are ready, keeping the rest in notReady', async () => {
    const square = rt.remote<typeof Tasks.square>(TASKS, 'square');
    const done = [square.remote(2), square.remote(3)];
    await rt.get(done, { timeoutMs: 90_000 });
    const never = rt.remote<typeof Tasks.square>(TASKS, 'square').remote(rt.remote<typeof Tasks.hangAlways>(TASKS, 'hangAlways').remote());
    const { ready, notReady } = await rt.wait([never, ...done], { numReturns: 2, timeoutMs: 20_000 });
    expect(ready).toEqual(done);
    expect(notReady).toEqual([never]);
  });

  it('wait() and get() on a ref that does not finish return at their deadline, not before and not long after', async () => {
    const never = rt.remote<typeof Tasks.hangAlways>(TASKS, 'hangAlways').remote();
    let t0 = performance.now();
    const { ready, notReady } = await rt.wait([never], { numReturns: 1, timeoutMs: 400 });
    let elapsed = performance.now() - t0;
    expect(ready).toEqual([]);
    expect(notReady).toEqual([never]);
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(5000);
    t0 = performance.now();
    await expect(rt.get(never, { timeoutMs: 400 })).toRejectMiniRay('ERR_TIMEOUT');
    elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(5000);
  });
});
