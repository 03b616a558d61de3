// Workers that die, and the runtime's start and end: a worker SIGKILLed mid-task is replaced and
// its task re-runs with an exact result; a task that kills every worker fails after maxAttempts;
// shutdown() leaves no process and no segment; an unfinished phase is named.
import { describe, expect, it } from 'vitest';

import { MiniRayError } from '../../lib/errors.js';
import { processAlive } from '../../lib/process.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { ObjectStore } from '../../phase2-objects/index.js';
import { RemoteTaskError, init, type Runtime } from '../index.js';
import { TASKS, nextStart, nextWorkerStarted, shmExists, testSegments } from './helpers.js';
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
      expect(rt.timeline().filter((e) => e.fn === fn.name).map((e) => [e.attempt, e.outcome])).toEqual([
        [1, 'killed'],
        [2, 'ok'],
      ]);
      // Both workers run tasks again, the new one included.
      const who = await rt.get(Array.from({ length: 8 }, () => rt.remote<typeof Tasks.whoAmI>(TASKS, 'whoAmI').remote()), { timeoutMs: 90_000 });
      for (const w of who) expect(rt.workerPids()).toContain(w.pid);
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

  it('init() on an unfinished phase fails with a message that names it, and leaves nothing behind', async () => {
    const segments = testSegments('skel');
    const previous = process.env.MINIRAY_IMPL;
    process.env.MINIRAY_IMPL = 'student';
    try {
      let skeleton = false;
      try {
        ObjectStore.create(segments.store, { capacity: 1 << 20 }).close();
        ObjectStore.unlink(segments.store);
      } catch (e) {
        skeleton = e instanceof MiniRayError && e.code === 'ERR_NOT_IMPLEMENTED';
      }
      if (!skeleton) return; // the student's phase 2 works here: nothing to name
      await expect(init({ workers: 1, memory: 1 << 20, segments })).toRejectMiniRay('ERR_NOT_IMPLEMENTED', 'phase 2 is not finished');
      expect(shmExists(segments.store) || shmExists(segments.scheduler)).toBe(false);
    } finally {
      if (previous === undefined) delete process.env.MINIRAY_IMPL;
      else process.env.MINIRAY_IMPL = previous;
    }
  });
});
