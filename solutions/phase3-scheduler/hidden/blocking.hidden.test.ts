// Hidden suite, checklist 3.3: sleeping and waking across processes, deadlines, cancellation.
import { describe, expect } from 'vitest';

import { asleepOnSegment, waitUntilAsleep } from '../../../testkit/asleep.js';
import { fixtures, spawnChildren } from '../../../testkit/children.js';
import { Severity, graded } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase3-scheduler/checklist.js';
import { Scheduler, type TaskId, type WorkerId } from '../../../phase3-scheduler/index.js';
import { arg, eventOf, resultOf } from '../../../phase3-scheduler/test/fixtures.js';

const sandbox = useSandbox();
const item = checklist.blocking;
const fx = fixtures<typeof import('../../../phase3-scheduler/test/fixtures.js')>(
  new URL('../../../phase3-scheduler/test/fixtures.ts', import.meta.url),
);

const elapsed = (t0: number): number => performance.now() - t0;

describe('phase 3 (hidden): blocking', () => {
  graded(
    item,
    'three fetches asleep in three processes: three submits wake all three, and each gets a different task',
    async () => {
      const name = sandbox.segment('three-fetch');
      const sched = Scheduler.create(name, { queueCapacity: 8 });
      const workers = await spawnChildren(3, { label: 'worker' });
      const runs = workers.map((w) => w.run(fx, 'fetchOne', { name, timeoutMs: 4000, mode: 'sync', complete: true }));
      await Promise.all(workers.map((w, i) => eventOf(w, 'waiting', runs[i]!)));
      for (const w of workers) await waitUntilAsleep(w.pid, name);
      const ids = [0, 1, 2].map((i) => sched.submit({ fn: 'wake', args: [arg(7, i)] }));
      const results = await Promise.all(runs);
      for (const r of results) {
        expect(r.outcome).toBe('ok');
        expect(r.elapsedMs, 'woken by a submit, not by its 4000 ms timeout').toBeLessThan(3500);
      }
      expect(results.map((r) => r.task?.id).sort(), 'each worker got its own task').toEqual([...ids].sort());
      for (const id of ids) expect(sched.wait(id, { timeoutMs: 5000 }).state).toBe('done');
      sched.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'three drivers asleep in wait() in three processes: each wakes with its own outcome when its task finishes, not before',
    async () => {
      const name = sandbox.segment('three-wait');
      const sched = Scheduler.create(name, { queueCapacity: 8 });
      const ids = [0, 1, 2].map((i) => sched.submit({ fn: 'slow', args: [arg(8, i)] }));
      const drivers = await spawnChildren(3, { label: 'driver' });
      const runs = drivers.map((d, i) => d.run(fx, 'waitOne', { name, task: ids[i]!, timeoutMs: 6000, mode: i === 1 ? 'async' : 'sync' }));
      await Promise.all(drivers.map((d, i) => eventOf(d, 'waiting', runs[i]!)));
      for (const d of drivers) await waitUntilAsleep(d.pid, name);
      const worker = sched.registerWorker();
      for (let i = 0; i < 3; i += 1) {
        const task = sched.fetch(worker)!;
        sched.complete(worker, task.id, resultOf(task.args[0]));
        const r = await runs[i]!;
        expect(r.outcome, `driver ${i}`).toBe('ok');
        expect(r.result, `driver ${i} got its own task's outcome`).toEqual({ state: 'done', resultId: resultOf(arg(8, i)), worker, attempts: 1 });
        expect(r.elapsedMs, 'woken by the completion, not by its 6000 ms timeout').toBeLessThan(5000);
        // The others' tasks are not finished: they went back to sleep.
        for (let j = i + 1; j < 3; j += 1) await waitUntilAsleep(drivers[j]!.pid, name);
        for (let j = i + 1; j < 3; j += 1) expect(asleepOnSegment(drivers[j]!.pid, name), `driver ${j} still waits`).toBe(true);
      }
      expect(sched.stats().tasks, 'every outcome collected').toBe(0);
      sched.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'a fetchAsync and a submitAsync asleep in another process are woken by a process that stays open',
    async () => {
      const name = sandbox.segment('async-wake');
      const sched = Scheduler.create(name, { queueCapacity: 1 });
      const [a, b, c] = await spawnChildren(3);
      // A fetch waits for a task that B submits; B keeps its handle open (close() would wake it too).
      const fetching = a!.run(fx, 'fetchOne', { name, timeoutMs: 4000, mode: 'async', complete: true });
      await eventOf(a!, 'waiting', fetching);
      await waitUntilAsleep(a!.pid, name);
      const submitting = b!.run(fx, 'submitOne', { name, fn: 'from b', args: [arg(9, 1)], timeoutMs: 0, mode: 'sync', holdOpen: true });
      const task = (await eventOf(b!, 'submitted', submitting)) as TaskId;
      const fetched = await fetching;
      expect(fetched.outcome).toBe('ok');
      expect(fetched.task?.id).toBe(task);
      expect(fetched.elapsedMs, 'the submit woke the async fetch').toBeLessThan(3500);
      expect(fetched.ticks, "A's event loop ran while it waited").toBeGreaterThan(0);
      b!.signal('close');
      await submitting;
      // Now a submit waits for room that C's fetch makes; C holds its task and stays open.
      sched.submit({ fn: 'fills the queue', args: [arg(9, 2)] });
      const blocked = a!.run(fx, 'submitOne', { name, fn: 'blocked', args: [arg(9, 3)], timeoutMs: 4000, mode: 'async' });
      await eventOf(a!, 'waiting', blocked);
      await waitUntilAsleep(a!.pid, name);
      const holding = c!.run(fx, 'fetchOne', { name, timeoutMs: 0, mode: 'sync', hold: true });
      await eventOf(c!, 'leased', holding);
      const submitted = await blocked;
      expect(submitted.outcome, 'the fetch made room').toBe('ok');
      expect(submitted.elapsedMs, 'the fetch woke the async submit').toBeLessThan(3500);
      c!.signal('finish');
      await holding;
      sched.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'a wait keeps its deadline through wake-ups meant for others, and timeouts from 30 to 490 ms are each honoured',
    async () => {
      const sched = Scheduler.create(sandbox.segment('deadline'), { queueCapacity: 2, maxTasks: 24 });
      // Ten tasks leased to ten workers, then a full queue: one task that never runs and a filler.
      const leased: Array<{ worker: WorkerId; task: TaskId }> = [];
      for (let i = 0; i < 10; i += 1) {
        const worker = sched.registerWorker();
        const task = sched.submit({ fn: 'other' });
        sched.fetch(worker);
        leased.push({ worker, task });
      }
      const stuck = sched.submit({ fn: 'never runs' });
      sched.submit({ fn: 'filler' });
      // A wait for `stuck` and a submit into the full queue, both 400 ms. Meanwhile, every 30 ms,
      // another task completes (waking the wait for nothing) and is collected (waking the submit
      // for nothing: a record came free, but the queue is still full).
      const t0 = performance.now();
      const waiting = sched.waitAsync(stuck, { timeoutMs: 400 }).then(
        () => 'returned',
        (e: unknown) => (e as { code?: string }).code,
      );
      const submitting = sched.submitAsync({ fn: 'no room' }, { timeoutMs: 400 }).then(
        () => 'returned',
        (e: unknown) => (e as { code?: string }).code,
      );
      let settled = false;
      void Promise.all([waiting, submitting]).then(() => (settled = true));
      for (const { worker, task } of leased) {
        if (settled) break;
        await new Promise((resolve) => setTimeout(resolve, 30));
        sched.complete(worker, task, resultOf(undefined));
        sched.wait(task);
      }
      expect(await waiting).toBe('ERR_TIMEOUT');
      expect(await submitting).toBe('ERR_QUEUE_FULL');
      const took = elapsed(t0);
      expect(took, 'not before the deadline').toBeGreaterThanOrEqual(395);
      expect(took, 'not long after it, however often it was woken').toBeLessThan(1200);
      // Deadlines of many sizes, so that none is honoured by luck of the clock.
      sched.close();
      const quiet = Scheduler.create(sandbox.segment('deadlines'), { queueCapacity: 1 });
      const idle = quiet.registerWorker();
      for (const ms of [30, 70, 130, 260, 490]) {
        const s0 = performance.now();
        expect(quiet.fetch(idle, { timeoutMs: ms }), 'nothing is queued').toBeNull();
        const got = elapsed(s0);
        expect(got, `a ${ms} ms fetch`).toBeGreaterThanOrEqual(ms - 2);
        expect(got, `a ${ms} ms fetch`).toBeLessThan(ms + 700);
      }
      quiet.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'close() cancels an untimed submitAsync and waitAsync with ERR_CLOSED; another handle keeps working',
    async () => {
      const name = sandbox.segment('cancel');
      const sched = Scheduler.create(name, { queueCapacity: 1 });
      const other = Scheduler.open(name);
      const queued = sched.submit({ fn: 'fills' });
      const submitting = sched.submitAsync({ fn: 'waits forever' }, { timeoutMs: -1 });
      const waiting = sched.waitAsync(queued, { timeoutMs: -1 });
      await waitUntilAsleep(process.pid, name);
      const t0 = performance.now();
      sched.close();
      // Both at once: each rejection has its handler before it can happen.
      await Promise.all([expect(submitting).toRejectMiniRay('ERR_CLOSED'), expect(waiting).toRejectMiniRay('ERR_CLOSED')]);
      expect(elapsed(t0), 'cancelled at once').toBeLessThan(2000);
      expect(other.stats()).toMatchObject({ queued: 1, tasks: 1 });
      other.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'a fetcher SIGKILLed in its sleep harms nobody: another fetcher still wakes for the next task',
    async () => {
      const name = sandbox.segment('kill-sleeper');
      const sched = Scheduler.create(name, { queueCapacity: 4 });
      const [victim, survivor] = await spawnChildren(2);
      const dying = victim!.run(fx, 'fetchOne', { name, timeoutMs: -1, mode: 'async' });
      dying.catch(() => undefined);
      await eventOf(victim!, 'waiting', dying);
      await waitUntilAsleep(victim!.pid, name);
      await victim!.kill('SIGKILL');
      const fetching = survivor!.run(fx, 'fetchOne', { name, timeoutMs: 4000, mode: 'sync', complete: true });
      await eventOf(survivor!, 'waiting', fetching);
      await waitUntilAsleep(survivor!.pid, name);
      const task = sched.submit({ fn: 'for the survivor', args: [arg(3, 3)] });
      const got = await fetching;
      expect(got.task?.id).toBe(task);
      expect(got.elapsedMs).toBeLessThan(3500);
      expect(sched.wait(task, { timeoutMs: 5000 })).toMatchObject({ state: 'done', resultId: resultOf(arg(3, 3)) });
      expect(sched.reap(), "the victim's worker is declared dead").toMatchObject({ deadWorkers: 1, requeued: 0 });
      expect(Scheduler.check(name).problems).toEqual([]);
      sched.close();
    },
    { weight: Severity.data },
  );
});
