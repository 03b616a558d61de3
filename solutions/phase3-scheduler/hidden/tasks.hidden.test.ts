// Hidden suite, checklist 3.2: bad input, stale ids, leases that are not yours, reclaimed records.
import { openSync, closeSync, writeSync } from 'node:fs';

import { describe, expect } from 'vitest';

import { waitUntilAsleep } from '../../../testkit/asleep.js';
import { fixtures, spawnChild } from '../../../testkit/children.js';
import { Severity, graded } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase3-scheduler/checklist.js';
import { Scheduler, type CreateOptions, type ObjectId, type TaskId, type TaskSpec, type WorkerId } from '../../../phase3-scheduler/index.js';
import { arg, eventOf, resultOf } from '../../../phase3-scheduler/test/fixtures.js';

const sandbox = useSandbox();
const item = checklist.tasks;
const fx = fixtures<typeof import('../../../phase3-scheduler/test/fixtures.js')>(
  new URL('../../../phase3-scheduler/test/fixtures.ts', import.meta.url),
);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('phase 3 (hidden): tasks', () => {
  graded(item, 'every call refuses bad input with a typed error, on both sides of every limit', () => {
    const bad = (o: unknown): CreateOptions => o as CreateOptions;
    // create: every option on both sides of its range
    for (const [options, what] of [
      [{ queueCapacity: 0 }, 'queueCapacity 0'],
      [{ queueCapacity: 65_537, maxTasks: 1, maxWorkers: 1 }, 'queueCapacity 65537'],
      [{ queueCapacity: 1.5 }, 'queueCapacity 1.5'],
      [{ queueCapacity: '4' }, "queueCapacity '4'"],
      [{ queueCapacity: 4, maxTasks: 0 }, 'maxTasks 0'],
      [{ queueCapacity: 4, maxTasks: 65_537 }, 'maxTasks 65537'],
      [{ queueCapacity: 4, maxWorkers: 0 }, 'maxWorkers 0'],
      [{ queueCapacity: 4, maxWorkers: 1025 }, 'maxWorkers 1025'],
      [{ queueCapacity: 4, maxAttempts: 0 }, 'maxAttempts 0'],
      [{ queueCapacity: 4, maxAttempts: 101 }, 'maxAttempts 101'],
      [{ queueCapacity: 4, leaseMs: -1 }, 'leaseMs -1'],
      [{ queueCapacity: 4, lockTimeoutMs: -1 }, 'lockTimeoutMs -1'],
    ] as const) {
      expect(() => Scheduler.create(sandbox.segment('bad'), bad(options)), what).toThrowMiniRay('ERR_INVALID_ARGUMENT');
    }
    for (const options of [
      { queueCapacity: 65_536, maxTasks: 1, maxWorkers: 1 },
      { queueCapacity: 1, maxTasks: 65_536, maxWorkers: 1 },
      { queueCapacity: 1, maxTasks: 1, maxWorkers: 1024, maxAttempts: 100, leaseMs: 0 },
    ]) {
      expect(() => Scheduler.create(sandbox.segment('edge'), options).close(), JSON.stringify(options)).not.toThrow();
    }
    expect(() => Scheduler.create('no-slash', { queueCapacity: 4 })).toThrowMiniRay('ERR_BAD_NAME');
    expect(() => Scheduler.open(sandbox.segment('missing'))).toThrowMiniRay('ERR_SEGMENT_NOT_FOUND');
    // A file that is not a scheduler at all.
    const foreign = sandbox.segment('foreign');
    const fd = openSync(`/dev/shm${foreign}`, 'w', 0o600);
    writeSync(fd, Buffer.alloc(65_536, 0x5a));
    closeSync(fd);
    expect(() => Scheduler.open(foreign, { lockTimeoutMs: 200 })).toThrowMiniRay('ERR_LAYOUT_MISMATCH');

    const name = sandbox.segment('inputs');
    const sched = Scheduler.create(name, { queueCapacity: 16, maxWorkers: 4 });
    const spec = (s: unknown): TaskSpec => s as TaskSpec;
    // fn: 1..127 bytes (bytes, not characters)
    expect(() => sched.submit({ fn: '' })).toThrowMiniRay('ERR_INVALID_ARGUMENT');
    expect(() => sched.submit({ fn: 'f'.repeat(127) })).not.toThrow();
    expect(() => sched.submit({ fn: 'f'.repeat(128) })).toThrowMiniRay('ERR_INVALID_ARGUMENT');
    expect(() => sched.submit({ fn: `${'é'.repeat(63)}a` }), '127 bytes in 64 characters').not.toThrow();
    expect(() => sched.submit({ fn: 'é'.repeat(64) }), '128 bytes in 64 characters').toThrowMiniRay('ERR_INVALID_ARGUMENT');
    // args: at most 8 object ids
    const ids = (n: number): ObjectId[] => Array.from({ length: n }, (_, i) => arg(0, i));
    expect(() => sched.submit({ fn: 'f', args: ids(8) })).not.toThrow();
    expect(() => sched.submit({ fn: 'f', args: ids(9) })).toThrowMiniRay('ERR_INVALID_ARGUMENT');
    expect(() => sched.submit(spec({ fn: 'f', args: ['xyz'] }))).toThrowMiniRay('ERR_INVALID_ARGUMENT');
    expect(() => sched.submit(spec({ fn: 'f', args: 'abc' }))).toThrowMiniRay('ERR_INVALID_ARGUMENT');
    expect(() => sched.submit(spec({ fn: 42 }))).toThrowMiniRay('ERR_INVALID_ARGUMENT');
    expect(() => sched.submit(spec(null))).toThrowMiniRay('ERR_INVALID_ARGUMENT');
    expect(() => sched.submit({ fn: 'f', maxAttempts: 101 })).toThrowMiniRay('ERR_INVALID_ARGUMENT');
    expect(sched.inspect(sched.submit({ fn: 'f', maxAttempts: 100 })).maxAttempts).toBe(100);
    expect(sched.inspect(sched.submit({ fn: 'f' })).maxAttempts, 'the scheduler default').toBe(3);
    for (const timeoutMs of [-2, 1.5, Number.NaN, 2 ** 60]) {
      expect(() => sched.submit({ fn: 'f' }, { timeoutMs }), `timeoutMs ${timeoutMs}`).toThrowMiniRay('ERR_INVALID_ARGUMENT');
    }
    const before = sched.stats();
    // ids: a number in range, or ERR_INVALID_ARGUMENT; in range but unknown: not found
    const worker = sched.registerWorker();
    for (const id of [-1, 1.5, 2 ** 52, 2 ** 60, Number.NaN]) {
      expect(() => sched.fetch(id as WorkerId), `worker id ${id}`).toThrowMiniRay('ERR_INVALID_ARGUMENT');
      expect(() => sched.wait(id as TaskId), `task id ${id}`).toThrowMiniRay('ERR_INVALID_ARGUMENT');
    }
    for (const id of [0, 1, 2 ** 20 + 50, 2 ** 52 - 1]) {
      expect(() => sched.fetch(id as WorkerId), `worker id ${id}`).toThrowMiniRay('ERR_WORKER_NOT_FOUND');
      expect(() => sched.heartbeat(id as WorkerId), `worker id ${id}`).toThrowMiniRay('ERR_WORKER_NOT_FOUND');
      expect(() => sched.wait(id as TaskId), `task id ${id}`).toThrowMiniRay('ERR_TASK_NOT_FOUND');
      expect(() => sched.inspect(id as TaskId), `task id ${id}`).toThrowMiniRay('ERR_TASK_NOT_FOUND');
      expect(() => sched.complete(worker, id as TaskId, resultOf(undefined)), `task id ${id}`).toThrowMiniRay('ERR_TASK_NOT_FOUND');
    }
    const task = sched.fetch(worker)!;
    expect(() => sched.fetch(worker), 'a worker holds one task at a time').toThrowMiniRay('ERR_INVALID_ARGUMENT');
    expect(() => sched.complete(worker, task.id, 'not an id' as ObjectId)).toThrowMiniRay('ERR_INVALID_ARGUMENT');
    expect(() => sched.fail(worker, task.id, 42 as unknown as string)).toThrowMiniRay('ERR_INVALID_ARGUMENT');
    expect(sched.stats().tasks, 'no refused call changed anything').toBe(before.tasks);
    sched.close();
    for (const call of [
      () => sched.submit({ fn: 'f' }),
      () => sched.fetch(worker),
      () => sched.wait(task.id),
      () => sched.reap(),
      () => sched.stats(),
      () => sched.registerWorker(),
    ]) {
      expect(call, 'after close()').toThrowMiniRay('ERR_CLOSED');
    }
  });

  graded(
    item,
    'a task id whose record went to a later task is ERR_TASK_NOT_FOUND everywhere, and leaves the later task alone',
    () => {
      const sched = Scheduler.create(sandbox.segment('stale'), { queueCapacity: 1, maxTasks: 1 });
      const worker = sched.registerWorker();
      const first = sched.submit({ fn: 'first', args: [arg(1, 1)] });
      sched.complete(worker, sched.fetch(worker)!.id, resultOf(arg(1, 1)));
      expect(sched.wait(first).state).toBe('done');
      const second = sched.submit({ fn: 'second', args: [arg(1, 2)] });
      expect(second, 'a new id for the same record').not.toBe(first);
      for (const call of [() => sched.wait(first), () => sched.inspect(first), () => sched.complete(worker, first, resultOf(undefined))]) {
        expect(call).toThrowMiniRay('ERR_TASK_NOT_FOUND');
      }
      expect(sched.inspect(second)).toMatchObject({ state: 'queued', fn: 'second' });
      expect(sched.fetch(worker)?.id).toBe(second);
      expect(() => sched.complete(worker, first, resultOf(arg(6, 6))), 'the stale id, again').toThrowMiniRay('ERR_TASK_NOT_FOUND');
      expect(() => sched.fail(worker, first, 'stale')).toThrowMiniRay('ERR_TASK_NOT_FOUND');
      expect(sched.inspect(second).state, 'the later task is untouched').toBe('leased');
      sched.complete(worker, second, resultOf(arg(1, 2)));
      expect(sched.wait(second)).toMatchObject({ state: 'done', resultId: resultOf(arg(1, 2)) });
      sched.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'only the lease holder may finish a task: not another worker, not another process, not a worker whose lease expired',
    async () => {
      const name = sandbox.segment('owner');
      const sched = Scheduler.create(name, { queueCapacity: 4, leaseMs: 200 });
      const holder = sched.registerWorker();
      const other = sched.registerWorker();
      const task = sched.submit({ fn: 'owned', args: [arg(2, 1)] });
      sched.fetch(holder);
      expect(() => sched.complete(other, task, resultOf(undefined))).toThrowMiniRay('ERR_NOT_LEASED');
      expect(() => sched.fail(other, task, 'not mine')).toThrowMiniRay('ERR_NOT_LEASED');
      const stranger = await spawnChild({ label: 'stranger' });
      for (const op of ['complete', 'fail'] as const) {
        expect(await stranger.run(fx, 'tryWorkerOp', { name, op, worker: holder, task }), `${op} from another process`).toBe('ERR_NOT_LEASED');
      }
      for (const op of ['fetch', 'heartbeat'] as const) {
        expect(await stranger.run(fx, 'tryWorkerOp', { name, op, worker: other, task }), `${op} from another process`).toBe(
          'ERR_WORKER_NOT_FOUND',
        );
      }
      expect(sched.inspect(task), 'nothing changed').toMatchObject({ state: 'leased', worker: holder, attempts: 1 });
      // The holder goes silent; its lease expires; the task moves on to `other`.
      await sleep(450);
      expect(sched.reap()).toMatchObject({ requeued: 1, deadWorkers: 1 });
      expect(sched.fetch(other)).toMatchObject({ id: task, attempt: 2 });
      expect(() => sched.complete(holder, task, resultOf(arg(6, 6))), 'the old holder, late').toThrowMiniRay('ERR_NOT_LEASED');
      sched.complete(other, task, resultOf(arg(2, 1)));
      expect(sched.wait(task), "the real holder's result").toEqual({ state: 'done', resultId: resultOf(arg(2, 1)), worker: other, attempts: 2 });
      sched.close();
    },
    { weight: Severity.data },
  );

  graded(item, 'a failure message of 255 bytes is kept whole; a longer one is cut at a character boundary', () => {
    const sched = Scheduler.create(sandbox.segment('message'), { queueCapacity: 4 });
    const worker = sched.registerWorker();
    for (const [message, kept] of [
      ['x'.repeat(255), 'x'.repeat(255)],
      ['y'.repeat(300), 'y'.repeat(255)],
      ['é'.repeat(200), 'é'.repeat(127)],
      ['', ''],
    ] as const) {
      const task = sched.submit({ fn: 'fails' });
      sched.fetch(worker);
      sched.fail(worker, task, message);
      expect(sched.wait(task)).toEqual({ state: 'failed', error: kept, attempts: 1 });
    }
    sched.close();
  });

  graded(
    item,
    'finished tasks whose submitter died are reclaimed by reap(); the others stay until collected',
    async () => {
      const name = sandbox.segment('orphans');
      const sched = Scheduler.create(name, { queueCapacity: 4 });
      const child = await spawnChild({ label: 'submitter' });
      const staying = child.run(fx, 'submitAndStay', { name, fn: 'orphan' });
      staying.catch(() => undefined);
      const orphan = (await eventOf(child, 'submitted', staying)) as TaskId;
      const mine = sched.submit({ fn: 'mine' });
      const worker = sched.registerWorker();
      for (let i = 0; i < 2; i += 1) sched.complete(worker, sched.fetch(worker)!.id, resultOf(undefined));
      expect(sched.reap(), 'its submitter is alive').toMatchObject({ reclaimed: 0 });
      await child.kill('SIGKILL');
      expect(sched.reap()).toMatchObject({ reclaimed: 1, requeued: 0 });
      expect(() => sched.wait(orphan)).toThrowMiniRay('ERR_TASK_NOT_FOUND');
      expect(sched.wait(mine).state).toBe('done');
      expect(sched.stats()).toMatchObject({ tasks: 0, done: 0 });
      sched.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'with every record in use, a submit waits until a wait() collects one, then goes through',
    async () => {
      const name = sandbox.segment('records');
      const sched = Scheduler.create(name, { queueCapacity: 4, maxTasks: 2 });
      const worker = sched.registerWorker();
      const done = [sched.submit({ fn: 'a' }), sched.submit({ fn: 'b' })];
      for (let i = 0; i < 2; i += 1) sched.complete(worker, sched.fetch(worker)!.id, resultOf(undefined));
      expect(sched.stats()).toMatchObject({ queued: 0, tasks: 2, done: 2 });
      expect(() => sched.submit({ fn: 'c' }), 'the queue is empty, but no record is free').toThrowMiniRay('ERR_QUEUE_FULL');
      const t0 = performance.now();
      const pending = sched.submitAsync({ fn: 'c' }, { timeoutMs: 4000 });
      await waitUntilAsleep(process.pid, name);
      sched.wait(done[0]!);
      const c = await pending;
      expect(performance.now() - t0, 'the collection woke it').toBeLessThan(3500);
      expect(sched.inspect(c)).toMatchObject({ state: 'queued', fn: 'c' });
      sched.close();
    },
    { weight: Severity.behaviour },
  );
});
