// Workers that die, and the runtime's start and end: a worker SIGKILLed mid-task is replaced and
// its task re-runs with an exact result; a task that kills every worker fails after maxAttempts;
// shutdown() leaves no process and no segment; an unfinished phase is named.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { MiniRayError } from '../../lib/errors.js';
import { processAlive } from '../../lib/process.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { ObjectStore } from '../../phase2-objects/index.js';
import { RemoteTaskError, init, type Runtime } from '../index.js';
import { Scheduler } from '../../phase3-scheduler/index.js';
import { uniqueSegmentName } from '../../testkit/segments.js';
import { TASKS, nextStart, nextWorkerDied, nextWorkerStarted, settledTimeline, shmExists, testSegments, workerChildren } from './helpers.js';
import type * as Tasks from './tasks.js';
import { checksum, pattern } from './tasks.js';

useSandbox();

// Worker processes take seconds to start on a loaded machine: every test allows for it.
const SLOW = { timeout: 120_000 };

async function withRuntime(tag: string, options: { maxAttempts?: number }, body: (rt: Runtime) => Promise<void>): Promise<void> {
  const rt = await init({ workers: 2, memory: 16 << 20, maxObjects: 256, segments: testSegments(tag), ...options });
  try {
    await body(rt);
  } finally {
    await rt.shutdown();
  }
}

function restore(variable: string, value: string | undefined): void {
  if (value === undefined) delete process.env[variable];
  else process.env[variable] = value;
}

// Whether the student's build of `phase` is the unfinished skeleton (it is in the course's own
// repository; in a student's copy it may be done, and the tests that need a skeleton are skipped).
function skeletonUnfinished(phase: 'phase2' | 'phase3'): boolean {
  const variable = `MINIRAY_IMPL_${phase.toUpperCase()}`;
  const saved = process.env[variable];
  process.env[variable] = 'student';
  const name = uniqueSegmentName(`probe-${phase}`);
  try {
    if (phase === 'phase2') {
      ObjectStore.create(name, { capacity: 1 << 20 }).close();
      ObjectStore.unlink(name);
    } else {
      const s = Scheduler.create(name, { queueCapacity: 4, maxTasks: 16, maxWorkers: 4, leaseMs: 0, maxAttempts: 1 });
      try {
        s.registerWorker();
      } finally {
        s.close();
        Scheduler.unlink(name);
      }
    }
    return false;
  } catch (e) {
    return e instanceof MiniRayError && e.code === 'ERR_NOT_IMPLEMENTED';
  } finally {
    restore(variable, saved);
  }
}

async function waitForFile(path: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} did not appear within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function waitUntilGone(pid: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (processAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} still runs ${ms} ms after it was killed`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('worker death', SLOW, () => {
  it('a worker SIGKILLed mid-task is replaced, the task re-runs on another lease, and the result is exact', async () => {
    await withRuntime('kill', {}, async (rt) => {
      const fn = rt.remote<typeof Tasks.hangOnFirstAttempt>(TASKS, 'hangOnFirstAttempt');
      const started = nextStart(rt, fn.name);
      const ref = fn.remote(1 << 20, 99);
      const first = await started; // the barrier: the task is running in that worker now
      expect(first.attempt).toBe(1);
      const replaced = nextWorkerStarted(rt);
      process.kill(first.pid, 'SIGKILL');
      const result = await rt.get(ref, { timeoutMs: 90_000 });
      expect(result).toEqual({ attempt: 2, sum: checksum(pattern(1 << 20, 99)) });
      const fresh = await replaced;
      expect(fresh.lane).toBe(first.lane);
      expect(rt.workerPids()).not.toContain(first.pid);
      expect(rt.workerPids()).toHaveLength(2);
      const stats = rt.stats();
      expect(stats.workerDeaths).toBe(1);
      expect(stats.scheduler.requeued).toBe(1);
      expect((await settledTimeline(rt, [fn.name], 2)).map((e) => [e.attempt, e.outcome])).toEqual([
        [1, 'killed'],
        [2, 'ok'],
      ]);
      // Both workers run tasks again, the new one included.
      const who = await rt.get(Array.from({ length: 8 }, () => rt.remote<typeof Tasks.whoAmI>(TASKS, 'whoAmI').remote()), { timeoutMs: 90_000 });
      for (const w of who) expect(rt.workerPids()).toContain(w.pid);
    });
  });

  it('a worker SIGKILLed mid-task among 40 other tasks: every result exact, each task completed exactly once, only the killed one re-run', async () => {
    await withRuntime('exact', {}, async (rt) => {
      const sum = rt.remote<typeof Tasks.patternSum>(TASKS, 'patternSum');
      const hang = rt.remote<typeof Tasks.hangOnFirstAttempt>(TASKS, 'hangOnFirstAttempt');
      const before = rt.stats();
      const started = nextStart(rt, hang.name);
      const seeds = Array.from({ length: 40 }, (_, i) => i + 1);
      const refs = seeds.slice(0, 20).map((seed) => sum.remote(64 << 10, seed));
      const victim = hang.remote(64 << 10, 77);
      refs.push(...seeds.slice(20).map((seed) => sum.remote(64 << 10, seed)));
      const first = await started; // the barrier: the hanging attempt runs in that worker now
      const died = nextWorkerDied(rt);
      process.kill(first.pid, 'SIGKILL');
      expect(await rt.get(refs, { timeoutMs: 90_000 })).toEqual(seeds.map((seed) => checksum(pattern(64 << 10, seed))));
      expect(await rt.get(victim, { timeoutMs: 90_000 })).toEqual({ attempt: 2, sum: checksum(pattern(64 << 10, 77)) });
      expect((await died).pid).toBe(first.pid);
      const after = rt.stats();
      expect(after.workerDeaths).toBe(1);
      expect(after.scheduler.requeued - before.scheduler.requeued).toBe(1);
      expect(after.scheduler.completed - before.scheduler.completed).toBe(41);
      const runs = await settledTimeline(rt, [sum.name, hang.name], 42);
      const ok = runs.filter((e) => e.outcome === 'ok');
      const killed = runs.filter((e) => e.outcome === 'killed');
      expect(ok).toHaveLength(41);
      expect(new Set(ok.map((e) => e.task)).size).toBe(41); // no task completed twice
      expect(killed.map((e) => [e.fn, e.attempt, e.pid])).toEqual([[hang.name, 1, first.pid]]);
      expect(ok.find((e) => e.fn === hang.name)?.task).toBe(killed[0]?.task); // the same task, re-leased
      expect(runs.filter((e) => e.fn === sum.name).every((e) => e.attempt === 1)).toBe(true);
      // Every result object is there once: freeing them all brings the store back to where it was.
      rt.free([...refs, victim]);
      const end = rt.stats().store;
      expect(end.objectCount).toBe(before.store.objectCount);
      expect(end.usedBytes).toBe(before.store.usedBytes);
    });
  });

  it('a worker SIGKILLed while writing its result in place: the retry writes it whole, and the half-written object is not left in the store', async () => {
    await withRuntime('inplace', {}, async (rt) => {
      const fn = rt.remote<typeof Tasks.hangWhileWritingOnFirstAttempt>(TASKS, 'hangWhileWritingOnFirstAttempt');
      const n = 1 << 20;
      const before = rt.stats().store;
      const dir = mkdtempSync(join(tmpdir(), 'miniray-inplace-'));
      try {
        const half = join(dir, 'half');
        const started = nextStart(rt, fn.name);
        const ref = fn.remote(n, 5, half);
        const first = await started;
        await waitForFile(half, 90_000); // the barrier: half the result is written in the store, unsealed
        const mid = rt.stats().store;
        expect(mid.objectCount - mid.sealedCount).toBe(before.objectCount - before.sealedCount + 1);
        expect(mid.usedBytes - before.usedBytes).toBeGreaterThanOrEqual(n);
        const died = nextWorkerDied(rt);
        process.kill(first.pid, 'SIGKILL');
        const result = await rt.get(ref, { timeoutMs: 90_000 });
        expect(result.byteLength).toBe(n);
        expect(result.equals(pattern(n, 5))).toBe(true);
        expect((await died).pid).toBe(first.pid);
        expect((await settledTimeline(rt, [fn.name], 2)).map((e) => [e.attempt, e.outcome])).toEqual([
          [1, 'killed'],
          [2, 'ok'],
        ]);
        const during = rt.stats().store;
        expect(during.objectCount - before.objectCount).toBe(1); // the result, once
        rt.free(ref);
        const after = rt.stats().store;
        expect(after.objectCount).toBe(before.objectCount);
        expect(after.usedBytes).toBe(before.usedBytes);
        expect(after.pinned).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it('a task that kills every worker it runs on fails after maxAttempts leases with ERR_WORKER_DIED', async () => {
    await withRuntime('poison', { maxAttempts: 2 }, async (rt) => {
      const fn = rt.remote<typeof Tasks.hangAlways>(TASKS, 'hangAlways');
      const killed: number[] = [];
      rt.events.on('task-start', (e: { fn: string; pid: number }) => {
        if (e.fn !== fn.name) return;
        killed.push(e.pid);
        process.kill(e.pid, 'SIGKILL');
      });
      const ref = fn.remote();
      const err = await rt.get(ref, { timeoutMs: 90_000 }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RemoteTaskError);
      expect((err as RemoteTaskError).code).toBe('ERR_WORKER_DIED');
      expect((err as RemoteTaskError).message).toContain('after 2 attempts');
      expect(killed).toHaveLength(2);
      // The runtime goes on with fresh workers.
      expect(await rt.get(rt.remote<typeof Tasks.square>(TASKS, 'square').remote(12), { timeoutMs: 90_000 })).toBe(144);
    });
  });
});

describe('start and shutdown', SLOW, () => {
  it('shutdown() ends every worker process and unlinks both segments; the runtime then refuses calls', async () => {
    const segments = testSegments('down');
    const rt = await init({ workers: 2, memory: 4 << 20, segments });
    const pids = rt.workerPids();
    expect(pids).toHaveLength(2);
    expect(shmExists(segments.store) && shmExists(segments.scheduler)).toBe(true);
    const pending = rt.remote<typeof Tasks.hangAlways>(TASKS, 'hangAlways').remote();
    await nextStart(rt, 'runtime/test/tasks.ts#hangAlways');
    await rt.shutdown();
    for (const pid of pids) await waitUntilGone(pid);
    expect(shmExists(segments.store)).toBe(false);
    expect(shmExists(segments.scheduler)).toBe(false);
    expect(() => rt.put(1)).toThrowMiniRay('ERR_CLOSED');
    await expect(rt.get(pending, { timeoutMs: 1000 })).toRejectMiniRay('ERR_CLOSED');
  });

  // Kilobytes of the store's segment this process has resident (its mapping's Rss in
  // /proc/self/smaps): the pages it has touched.
  function residentKiB(segment: string): number {
    const lines = readFileSync('/proc/self/smaps', 'utf8').split('\n');
    let inside = false;
    let kib = 0;
    for (const line of lines) {
      if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inside = line.endsWith(` /dev/shm${segment}`);
      else if (inside && line.startsWith('Rss:')) kib += Number(/(\d+)/.exec(line)?.[1] ?? 'NaN');
    }
    return kib;
  }

  it('init({ preallocate: true }) touches every page of the store once and leaves it as it began; without it, the pages wait for their first object', async () => {
    const memory = 16 << 20;
    for (const preallocate of [false, true]) {
      const segments = testSegments(`prealloc-${String(preallocate)}`);
      const rt = await init({ workers: 1, memory, maxObjects: 64, segments, preallocate });
      try {
        const kib = residentKiB(segments.store);
        const stats = rt.stats().store;
        expect(stats.objectCount).toBe(0);
        expect(stats.usedBytes).toBe(0);
        expect(stats.pinned).toBe(0);
        if (preallocate) {
          const p = rt.preallocation;
          expect(p).not.toBeNull();
          expect(p?.bytes).toBeGreaterThan(memory - (1 << 20));
          expect(p?.bytes).toBeLessThanOrEqual(memory);
          expect(kib).toBeGreaterThan(((memory >> 10) * 9) / 10);
        } else {
          expect(rt.preallocation).toBeNull();
          expect(kib).toBeLessThan((memory >> 10) / 10);
        }
        // The space came back whole: an object of nearly the whole store still fits, and is read back.
        const big = Buffer.alloc(memory - (1 << 20), 0x5a);
        const ref = rt.put(big);
        const view = await rt.get(ref, { timeoutMs: 10_000 });
        expect(Buffer.compare(Buffer.from(view.buffer, view.byteOffset, view.byteLength), big)).toBe(0);
        rt.free(ref);
      } finally {
        await rt.shutdown();
      }
      expect(shmExists(segments.store)).toBe(false);
    }
  });

  // A phase is taken from the skeleton (MINIRAY_IMPL_PHASEn=student) while the other is the
  // reference: the message names the unfinished one.
  async function initOnSkeletonOf(phase: 'phase2' | 'phase3'): Promise<unknown> {
    const segments = testSegments(`skel-${phase}`);
    const variable = `MINIRAY_IMPL_${phase.toUpperCase()}`;
    const saved = { impl: process.env.MINIRAY_IMPL, own: process.env[variable] };
    process.env.MINIRAY_IMPL = 'solution';
    process.env[variable] = 'student';
    try {
      const error = await init({ workers: 1, memory: 1 << 20, segments }).then(
        async (rt) => {
          await rt.shutdown();
          return null;
        },
        (e: unknown) => e,
      );
      expect(shmExists(segments.store) || shmExists(segments.scheduler)).toBe(false);
      expect(workerChildren()).toEqual([]);
      return error;
    } finally {
      restore('MINIRAY_IMPL', saved.impl);
      restore(variable, saved.own);
    }
  }

  it('init() on the skeleton of phase 2 fails with "mini-Ray needs phase 2 (the object store)" and the missing function, leaving no process and no segment', async (ctx) => {
    if (!skeletonUnfinished('phase2')) ctx.skip();
    const e = await initOnSkeletonOf('phase2');
    expect(e).toBeInstanceOf(MiniRayError);
    expect((e as MiniRayError).code).toBe('ERR_NOT_IMPLEMENTED');
    expect((e as MiniRayError).message).toMatch(/^mini-Ray needs phase 2 \(the object store\): not implemented: phase2 \w+::\w+/);
    expect((e as MiniRayError).message).toContain('npm test -- phase2');
  });

  it('init() on the skeleton of phase 3 (phase 2 finished) fails with "mini-Ray needs phase 3 (the scheduler)", leaving no process and no segment', async (ctx) => {
    if (!skeletonUnfinished('phase3')) ctx.skip();
    const e = await initOnSkeletonOf('phase3');
    expect(e).toBeInstanceOf(MiniRayError);
    expect((e as MiniRayError).code).toBe('ERR_NOT_IMPLEMENTED');
    expect((e as MiniRayError).message).toMatch(/^mini-Ray needs phase 3 \(the scheduler\): not implemented: phase3 \w+::\w+/);
    expect((e as MiniRayError).message).toContain('npm test -- phase3');
  });
});
