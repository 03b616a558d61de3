// Hidden suite, checklist 3.4: liveness by pid and start time, leases, retries, retirement.
import { describe, expect } from 'vitest';

import { waitUntilAsleep } from '../../../testkit/asleep.js';
import { fixtures, spawnChild, spawnChildren } from '../../../testkit/children.js';
import { Severity, graded } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase3-scheduler/checklist.js';
import { Scheduler, type TaskId, type WorkerId } from '../../../phase3-scheduler/index.js';
import { arg, eventOf, resultOf, type WaitResult } from '../../../phase3-scheduler/test/fixtures.js';
import { SegmentBytes, WORKER, slotOf } from './segment-bytes.js';

const sandbox = useSandbox();
const item = checklist.workers;
const fx = fixtures<typeof import('../../../phase3-scheduler/test/fixtures.js')>(
  new URL('../../../phase3-scheduler/test/fixtures.ts', import.meta.url),
);

const NOTHING = { requeued: 0, failed: 0, deadWorkers: 0, reclaimed: 0 };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('phase 3 (hidden): workers', () => {
  graded(
    item,
    'a pid now used by another process is not a live worker: reap() compares the start time, declares it dead and re-queues its task',
    async () => {
      const name = sandbox.segment('pid-reuse');
      const sched = Scheduler.create(name, { queueCapacity: 4, leaseMs: 0 });
      const task = sched.submit({ fn: 'held', args: [arg(1, 1)] });
      const child = await spawnChild({ label: 'holder' });
      const holding = child.run(fx, 'fetchOne', { name, timeoutMs: 0, mode: 'sync', hold: true });
      const { worker } = (await eventOf(child, 'leased', holding)) as { worker: WorkerId };
      expect(sched.reap(), 'the holder is alive').toEqual(NOTHING);
      // Make the record say the worker was a process that started at another time: its pid is now
      // someone else's (here, still the same child's), as after the kernel reused it.
      const bytes = new SegmentBytes(name, sched.debug.layout());
      const at = bytes.worker(slotOf(worker), WORKER.startTime);
      bytes.setU64(at, bytes.u64(at) + 1n);
      expect(sched.reap(), 'the pid is alive, but not the process that registered').toEqual({ ...NOTHING, requeued: 1, deadWorkers: 1 });
      expect(sched.inspect(task)).toMatchObject({ state: 'queued', attempts: 1 });
      child.signal('finish'); // the child now tries to complete: its lease is gone
      expect((await holding).outcome).toBe('ERR_NOT_LEASED');
      sched.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    "a dead worker's task goes back into a full queue: the ring's spare slots take it, and submit still sees the queue full",
    async () => {
      const name = sandbox.segment('spare');
      const sched = Scheduler.create(name, { queueCapacity: 2, leaseMs: 0 });
      const held = sched.submit({ fn: 'held' });
      const child = await spawnChild({ label: 'holder' });
      const holding = child.run(fx, 'fetchOne', { name, timeoutMs: 0, mode: 'sync', hold: true });
      holding.catch(() => undefined); // killed below
      expect(((await eventOf(child, 'leased', holding)) as { task: TaskId }).task).toBe(held);
      const queued = [sched.submit({ fn: 'a' }), sched.submit({ fn: 'b' })];
      expect(() => sched.submit({ fn: 'c' }), 'the queue is full').toThrowMiniRay('ERR_QUEUE_FULL');
      await child.kill('SIGKILL');
      expect(sched.reap(), 'its task re-queued, although the queue was full').toEqual({ ...NOTHING, requeued: 1, deadWorkers: 1 });
      expect(sched.stats()).toMatchObject({ queued: 3, leased: 0, tasks: 3 });
      expect(() => sched.submit({ fn: 'c' }), 'the spare slot is not for submit').toThrowMiniRay('ERR_QUEUE_FULL');
      const worker = sched.registerWorker();
      for (const [i, task] of [...queued, held].entries()) {
        const t = sched.fetch(worker);
        expect(t?.id, `fetch ${i + 1}: in queue order, the re-queued task last`).toBe(task);
        sched.complete(worker, task, resultOf(undefined));
        expect(sched.wait(task)).toMatchObject({ state: 'done', attempts: task === held ? 2 : 1 });
      }
      expect(Scheduler.check(name).problems).toEqual([]);
      sched.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'live workers are never reaped: an idle one with an old heartbeat, a busy one that heartbeats within its lease, one whose fetch came after a long idle time',
    async () => {
      const name = sandbox.segment('alive');
      const sched = Scheduler.create(name, { queueCapacity: 4, leaseMs: 300 });
      const idle = await spawnChild({ label: 'idle' });
      const staying = idle.run(fx, 'registerAndStay', { name });
      await eventOf(idle, 'registered', staying);
      const late = sched.registerWorker(); // idle through the loop below, then fetches
      const busy = sched.registerWorker();
      const task = sched.submit({ fn: 'long', args: [arg(2, 2)] });
      sched.fetch(busy);
      for (let i = 0; i < 8; i += 1) {
        await sleep(100);
        sched.heartbeat(busy);
        expect(sched.reap(), `reap ${i + 1}: nobody is dead`).toEqual(NOTHING);
      }
      const [child] = sched.workers().filter((w) => w.id !== busy);
      expect(child?.heartbeatAgeMs, 'the idle worker has been silent for longer than the lease').toBeGreaterThan(300);
      expect(child?.state).toBe('idle');
      sched.complete(busy, task, resultOf(arg(2, 2)));
      expect(sched.wait(task)).toMatchObject({ state: 'done', attempts: 1 });
      // A fetch is a sign of life: the lease of a worker idle for longer than leaseMs starts now.
      expect(sched.workers().find((w) => w.id === late)?.heartbeatAgeMs, 'idle for longer than the lease').toBeGreaterThan(300);
      const second = sched.submit({ fn: 'after a long idle time' });
      expect(sched.fetch(late)?.id).toBe(second);
      expect(sched.reap(), 'a worker that has just fetched is alive').toEqual(NOTHING);
      sched.complete(late, second, resultOf(undefined));
      expect(sched.wait(second)).toMatchObject({ state: 'done', attempts: 1, worker: late });
      idle.signal('exit');
      await staying;
      sched.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'a busy worker silent for longer than leaseMs is reaped, not before; its late complete is ERR_NOT_LEASED, its heartbeat ERR_WORKER_NOT_FOUND',
    async () => {
      const sched = Scheduler.create(sandbox.segment('lease'), { queueCapacity: 4, leaseMs: 300 });
      const slow = sched.registerWorker();
      const fast = sched.registerWorker();
      const task = sched.submit({ fn: 'slow', args: [arg(3, 3)] });
      sched.fetch(slow);
      expect(sched.reap(), 'its lease has just begun').toEqual(NOTHING);
      await sleep(600);
      expect(sched.reap()).toEqual({ ...NOTHING, requeued: 1, deadWorkers: 1 });
      expect(() => sched.heartbeat(slow)).toThrowMiniRay('ERR_WORKER_NOT_FOUND');
      const again = sched.fetch(fast);
      expect(again).toMatchObject({ id: task, attempt: 2 });
      expect(() => sched.complete(slow, task, resultOf(undefined)), 'the first worker, too late').toThrowMiniRay('ERR_NOT_LEASED');
      sched.complete(fast, task, resultOf(arg(3, 3)));
      expect(sched.wait(task)).toEqual({ state: 'done', resultId: resultOf(arg(3, 3)), worker: fast, attempts: 2 });
      expect(sched.workers().find((w) => w.id === slow)?.state).toBe('dead');
      sched.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'a task that kills every worker fails after maxAttempts, and a driver asleep in wait() in another process gets the error at once',
    async () => {
      const name = sandbox.segment('poison');
      const sched = Scheduler.create(name, { queueCapacity: 4, maxAttempts: 2 });
      const task = sched.submit({ fn: 'poison', args: [arg(4, 4)] });
      const [driver, v1, v2] = await spawnChildren(3);
      // The driver's timeout is below a sleep's 5 s cap: only the reap that fails the task can
      // wake it before its deadline (and a wait that ends at its deadline still returns the outcome).
      const timeoutMs = 4900;
      let waiting: Promise<WaitResult> | undefined;
      for (const [i, victim] of [v1!, v2!].entries()) {
        const holding = victim.run(fx, 'fetchOne', { name, timeoutMs: 4000, mode: 'sync', hold: true });
        holding.catch(() => undefined); // killed below
        const leased = (await eventOf(victim, 'leased', holding)) as { task: TaskId };
        expect(leased.task).toBe(task);
        expect(sched.inspect(task).attempts).toBe(i + 1);
        if (i === 1) {
          waiting = driver!.run(fx, 'waitOne', { name, task, timeoutMs, mode: 'sync' });
          await eventOf(driver!, 'waiting', waiting);
          await waitUntilAsleep(driver!.pid, name);
        }
        await victim.kill('SIGKILL');
        expect(sched.reap(), `after worker ${i + 1} died`).toEqual(
          i === 0 ? { ...NOTHING, requeued: 1, deadWorkers: 1 } : { ...NOTHING, failed: 1, deadWorkers: 1 },
        );
      }
      const got = await waiting!;
      expect(got.outcome).toBe('ok');
      expect(got.result).toMatchObject({ state: 'failed', attempts: 2 });
      expect(got.result?.state === 'failed' ? got.result.error : '', 'the error says why').toMatch(/died/);
      expect(got.elapsedMs, `woken by the reap that failed the task, not by its ${timeoutMs} ms timeout`).toBeLessThan(timeoutMs - 500);
      expect(sched.stats()).toMatchObject({ tasks: 0, queued: 0, failedTotal: 1, requeued: 1, reapedWorkers: 2 });
      sched.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    "a dead worker's slot is reused under a new id; the old id is ERR_WORKER_NOT_FOUND; a full table is ERR_TABLE_FULL",
    async () => {
      const name = sandbox.segment('reuse');
      const sched = Scheduler.create(name, { queueCapacity: 2, maxWorkers: 1 });
      const child = await spawnChild();
      const staying = child.run(fx, 'registerAndStay', { name });
      staying.catch(() => undefined);
      const { worker: old } = (await eventOf(child, 'registered', staying)) as { worker: WorkerId };
      expect(() => sched.registerWorker(), 'the one slot is taken by a live worker').toThrowMiniRay('ERR_TABLE_FULL');
      await child.kill('SIGKILL');
      expect(sched.reap()).toEqual({ ...NOTHING, deadWorkers: 1 });
      const fresh = sched.registerWorker();
      expect(fresh, 'a new id').not.toBe(old);
      expect(slotOf(fresh), 'in the same slot').toBe(slotOf(old));
      expect(sched.workers()).toEqual([expect.objectContaining({ id: fresh, state: 'idle', pid: process.pid })]);
      expect(() => sched.heartbeat(old)).toThrowMiniRay('ERR_WORKER_NOT_FOUND');
      sched.submit({ fn: 'x' });
      expect(() => sched.fetch(old), 'the old id cannot fetch').toThrowMiniRay('ERR_WORKER_NOT_FOUND');
      expect(sched.fetch(fresh)?.fn).toBe('x');
      sched.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    "close() retires the handle's workers: a task one of them held goes back to the queue",
    () => {
      const name = sandbox.segment('retire');
      const sched = Scheduler.create(name, { queueCapacity: 2 });
      const other = Scheduler.open(name);
      const leaving = other.registerWorker();
      const task = sched.submit({ fn: 'interrupted', args: [arg(5, 5)] });
      expect(other.fetch(leaving)?.id).toBe(task);
      other.close();
      expect(sched.inspect(task)).toMatchObject({ state: 'queued', attempts: 1 });
      expect(sched.workers()).toEqual([expect.objectContaining({ id: leaving, state: 'dead', task: null })]);
      const worker = sched.registerWorker();
      expect(sched.fetch(worker)).toMatchObject({ id: task, attempt: 2 });
      sched.complete(worker, task, resultOf(arg(5, 5)));
      expect(sched.wait(task)).toMatchObject({ state: 'done', attempts: 2, worker });
      sched.close();
    },
    { weight: Severity.behaviour },
  );
});
