// Hidden suite, checklist 3.5: processes that die in the middle of a change, and segments that lie.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect } from 'vitest';

import { fixtures, spawnChild, spawnChildren } from '../../../testkit/children.js';
import { Severity, graded } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase3-scheduler/checklist.js';
import { Scheduler, type TaskId } from '../../../phase3-scheduler/index.js';
import { arg, eventOf, resultOf } from '../../../phase3-scheduler/test/fixtures.js';
import { COUNTS, SegmentBytes, TASK, WORKER, slotOf } from './segment-bytes.js';

const sandbox = useSandbox();
const item = checklist.stress;
const fx = fixtures<typeof import('../../../phase3-scheduler/test/fixtures.js')>(
  new URL('../../../phase3-scheduler/test/fixtures.ts', import.meta.url),
);
const hfx = fixtures<typeof import('./fixtures.js')>(new URL('./fixtures.ts', import.meta.url));

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// Fetches every queued task with a fresh worker of this process; returns them in order.
function drain(sched: Scheduler): TaskId[] {
  const worker = sched.registerWorker();
  const out: TaskId[] = [];
  for (let task = sched.fetch(worker); task !== null; task = sched.fetch(worker)) {
    out.push(task.id);
    sched.complete(worker, task.id, resultOf(task.args[0]));
  }
  return out;
}

describe('phase 3 (hidden): recovery and hostile segments', () => {
  graded(
    item,
    'a lock holder killed with a submit, a fetch or a complete half done: the next locker repairs it, nothing is lost or doubled',
    async () => {
      const holders = await spawnChildren(4, { label: 'holder' });
      const scenario = async (
        i: number,
        setup: (s: Scheduler) => Record<string, number>,
        damage: (b: SegmentBytes, ids: Record<string, number>) => void,
      ): Promise<{ sched: Scheduler; ids: Record<string, number>; name: string }> => {
        const name = sandbox.segment(`damage-${i}`);
        const sched = Scheduler.create(name, { queueCapacity: 8 });
        const ids = setup(sched);
        const holder = holders[i]!;
        const locking = holder.run(fx, 'holdLock', { name });
        locking.catch(() => undefined); // killed below
        await eventOf(holder, 'locked', locking);
        damage(new SegmentBytes(name, sched.debug.layout()), ids);
        await holder.kill('SIGKILL');
        // The next operation finds the holder dead and must repair what it left.
        expect(sched.stats().lockRecoveries, `scenario ${i}: the dead holder was noticed`).toBe(1);
        expect(Scheduler.check(name).problems, `scenario ${i}: consistent after recovery`).toEqual([]);
        return { sched, ids, name };
      };

      // 1. A submit that wrote its record (queued) but had not yet put it in the ring.
      {
        const { sched, ids } = await scenario(
          0,
          (s) => ({ a: s.submit({ fn: 'a' }), b: s.submit({ fn: 'b' }) }),
          (b) => {
            const slot = 2;
            b.setU32(b.task(slot, TASK.generation), 1);
            b.setU32(b.task(slot, TASK.maxAttempts), 3);
            b.setU32(b.task(slot, TASK.fnLen), 4);
            b.write(b.task(slot, TASK.fn), Buffer.from('half'));
            b.setU64(b.task(slot, TASK.queuedSeq), b.tail);
            b.setU32(b.task(slot, TASK.state), 1); // queued: the submit's commit
          },
        );
        expect(sched.stats()).toMatchObject({ queued: 3, tasks: 3 });
        expect(drain(sched), 'the two submits that returned, then the one in flight').toEqual([ids.a, ids.b, 2 ** 20 + 2]);
        sched.close();
      }
      // 2. A fetch that took the task off the ring but had not yet leased it.
      {
        const { sched, ids } = await scenario(
          1,
          (s) => ({ a: s.submit({ fn: 'a' }), b: s.submit({ fn: 'b' }), c: s.submit({ fn: 'c' }) }),
          (b) => b.setU64(b.layout.headOffset, b.head + 1n),
        );
        expect(sched.stats()).toMatchObject({ queued: 3, tasks: 3, leased: 0 });
        expect(drain(sched), 'the popped task is not lost').toEqual([ids.a, ids.b, ids.c]);
        sched.close();
      }
      // 3. A fetch that leased the task to a worker but had not yet told the worker.
      {
        const { sched, ids } = await scenario(
          2,
          (s) => ({ w: s.registerWorker(), a: s.submit({ fn: 'a' }), b: s.submit({ fn: 'b' }) }),
          (b, { w, a }) => {
            b.setU64(b.layout.headOffset, b.head + 1n);
            b.setU32(b.task(slotOf(a!), TASK.attempts), 1);
            b.setU64(b.task(slotOf(a!), TASK.worker), w!);
            b.setU32(b.task(slotOf(a!), TASK.state), 2); // leased
            b.setU64(b.count(COUNTS.leased), 1);
          },
        );
        const a = ids.a as TaskId;
        const info = sched.inspect(a);
        if (info.state === 'leased') {
          expect(info.worker, 'leased to the worker it names').toBe(ids.w);
          expect(sched.workers().find((x) => x.id === ids.w)).toMatchObject({ state: 'busy', task: a });
          sched.complete(ids.w as never, a, resultOf(undefined));
          expect(drain(sched)).toEqual([ids.b]);
        } else {
          expect(info.state, 'or back in the queue, in front').toBe('queued');
          expect(drain(sched)).toEqual([a, ids.b]);
        }
        expect(sched.wait(a).state).toBe('done');
        sched.close();
      }
      // 4. A complete that marked the task done but had not yet freed the worker or fixed the counts.
      {
        const { sched, ids } = await scenario(
          3,
          (s) => {
            const w = s.registerWorker();
            const a = s.submit({ fn: 'a', args: [arg(4, 4)] });
            s.fetch(w);
            return { w, a };
          },
          (b, { a }) => b.setU32(b.task(slotOf(a!), TASK.state), 3), // done
        );
        expect(sched.stats()).toMatchObject({ leased: 0, done: 1, busyWorkers: 0 });
        expect(sched.workers()[0]).toMatchObject({ state: 'idle', task: null });
        expect(sched.wait(ids.a as TaskId)).toMatchObject({ state: 'done', attempts: 1 });
        const next = sched.submit({ fn: 'after' });
        expect(sched.fetch(ids.w as never)?.id, 'the worker works again').toBe(next);
        sched.close();
      }
    },
    { weight: Severity.data, timeoutMs: 60_000 },
  );

  graded(
    item,
    'clients SIGKILLed at random moments, one after another: counts exact, nothing lost, the checker clean, the scheduler still works',
    async () => {
      const name = sandbox.segment('kills');
      const dir = mkdtempSync(join(tmpdir(), 'miniray-journal-'));
      try {
        // More attempts than kills: no task here fails for running out of them.
        const sched = Scheduler.create(name, { queueCapacity: 8, maxTasks: 256, lockTimeoutMs: 5000, maxAttempts: 10 });
        const clients = await spawnChildren(3, { label: 'client' });
        const runs = clients.map((c, i) => c.run(hfx, 'journaled', { name, journal: join(dir, `${i}.log`), seed: 11 + i }, 60_000));
        for (const r of runs) r.catch(() => undefined); // every one is killed
        // Ready, but each starts only on its own 'go': one client runs at a time.
        await Promise.all(clients.map((c, i) => eventOf(c, 'ready', runs[i]!)));
        // From the journals of the clients killed so far: tasks whose submit returned, whose
        // complete or fail returned, and whose outcome a wait collected.
        const submitted = new Set<number>();
        const finished = new Set<number>();
        const collected = new Set<number>();
        let unknownSubmits = 0; // submits in flight at a kill: their ids never reached a journal
        for (const [i, client] of clients.entries()) {
          client.signal('go');
          await sleep(60 + 40 * i);
          await client.kill('SIGKILL');
          const lines = readFileSync(join(dir, `${i}.log`), 'utf8').trim().split('\n');
          let leased = 0;
          for (const line of lines) {
            const [op, id] = line.split(' ');
            if (op === 'S') submitted.add(Number(id));
            if (op === 'L') leased = Number(id);
            if (op === 'F') finished.add(Number(id));
            if (op === 'C') collected.add(Number(id));
          }
          const last = lines[lines.length - 1] ?? '';
          const inFlight = /^[a-z]$/.test(last) ? last : '';
          if (inFlight === 's') unknownSubmits += 1;
          // A complete or fail in flight may or may not have happened.
          const maybeFinished = inFlight === 'f' ? leased : 0;
          // Repair (if it died in the lock); reap its worker (re-queueing what it held) and the
          // finished tasks of the dead clients (nobody can collect them now).
          sched.stats();
          expect(sched.reap().deadWorkers, `client ${i}: its worker is reaped`).toBe(1);
          expect(Scheduler.check(name).problems, `after killing client ${i}`).toEqual([]);
          let present = 0;
          for (const id of submitted) {
            const open = !finished.has(id) && !collected.has(id);
            let state = 'absent';
            try {
              state = sched.inspect(id as TaskId).state;
            } catch (e) {
              expect(e, `task ${id}`).toMatchObject({ code: 'ERR_TASK_NOT_FOUND' });
            }
            if (id === maybeFinished) {
              expect(['absent', 'queued'], `task ${id}, whose complete was in flight`).toContain(state);
              if (state === 'absent') finished.add(id); // it did finish (and was reclaimed)
            } else if (open) {
              expect(state, `task ${id} was submitted and never finished: it must be queued again`).toBe('queued');
            } else {
              expect(state, `task ${id} was finished by a client that is gone: reclaimed`).toBe('absent');
            }
            if (state !== 'absent') present += 1;
          }
          const tasks = sched.stats().tasks;
          expect(tasks, `after client ${i}: the known tasks, plus the submits in flight at most`).toBeGreaterThanOrEqual(present);
          expect(tasks).toBeLessThanOrEqual(present + unknownSubmits);
        }
        expect(submitted.size, 'the clients got some work done').toBeGreaterThan(5);
        // Everything still queued runs to the end exactly once.
        const drained = drain(sched);
        expect(new Set(drained).size, 'no task fetched twice').toBe(drained.length);
        for (const id of drained) expect(sched.wait(id).state).toBe('done');
        const end = sched.stats();
        expect(end).toMatchObject({ queued: 0, leased: 0, tasks: 0 });
        expect(Scheduler.check(name).problems).toEqual([]);
        sched.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    { weight: Severity.data, timeoutMs: 60_000 },
  );

  graded(
    item,
    'a segment scribbled on by another process (ring entries, records, counters, geometry) gives typed errors, never a crash',
    async () => {
      const names: Record<string, string> = {};
      const scheds: Record<string, Scheduler> = {};
      for (const label of ['ring-entry', 'head-past-tail', 'fn-len', 'nargs', 'state', 'worker', 'geometry', 'error-len', 'recovery']) {
        names[label] = sandbox.segment(label);
        const s = Scheduler.create(names[label]!, { queueCapacity: 4 });
        const w = s.registerWorker();
        s.submit({ fn: 'a', args: [arg(1, 1)] });
        s.submit({ fn: 'b', args: [arg(1, 2)] });
        if (label === 'error-len' || label === 'worker') {
          const t = s.fetch(w)!;
          if (label === 'error-len') s.fail(w, t.id, 'failed');
        }
        scheds[label] = s;
      }
      const prober = await spawnChild({ label: 'prober' });
      const probing = prober.run(hfx, 'probe', { names });
      await eventOf(prober, 'opened', probing);
      const bytes = (label: string): SegmentBytes => new SegmentBytes(names[label]!, scheds[label]!.debug.layout());
      let b = bytes('ring-entry');
      b.setU64(b.ring(b.head), 0xfffff); // a slot far outside the table
      b = bytes('head-past-tail');
      b.setU64(b.layout.headOffset, b.tail + 5n);
      b = bytes('fn-len');
      b.setU32(b.task(0, TASK.fnLen), 60_000);
      b = bytes('nargs');
      b.setU32(b.task(0, TASK.nargs), 1000);
      b = bytes('state');
      b.setU32(b.task(0, TASK.state), 77);
      b = bytes('worker');
      b.setU64(b.worker(0, WORKER.task), 0xdeadbeefn);
      b.setU32(b.worker(0, WORKER.pid), 0x7ffffff0); // a pid nobody has: reap() looks at it
      b = bytes('geometry');
      b.setU32(b.layout.ringSlotsFieldOffset, 2 ** 31 - 1);
      b.setU32(b.layout.maxTasksFieldOffset, 2 ** 20);
      b.setU64(b.layout.tasksOffsetFieldOffset, 2n ** 40n);
      b = bytes('error-len');
      b.setU32(b.task(0, TASK.errorLen), 9999);
      b = bytes('recovery');
      b.setU32(b.task(1, TASK.state), 99);
      b.setU32(b.layout.needsRecoveryOffset, 1);
      prober.signal('probe');
      const { opened, results } = await probing;
      expect(prober.alive, 'the prober survived every probe').toBe(true);
      expect(Object.values(opened).every((o) => o === 'ok'), JSON.stringify(opened)).toBe(true);
      for (const [label, r] of Object.entries(results)) {
        for (const [call, out] of Object.entries(r)) {
          expect(out.startsWith('ERR_') || out === 'ok', `${label}: ${call} ended with ${out}`).toBe(true);
        }
      }
      expect(results['ring-entry']?.fetch).toBe('ERR_SEGMENT_CORRUPT');
      expect(results['head-past-tail']).toMatchObject({ fetch: 'ERR_SEGMENT_CORRUPT', submit: 'ERR_SEGMENT_CORRUPT', stats: 'ERR_SEGMENT_CORRUPT' });
      expect(results['fn-len']?.fetch).toBe('ERR_SEGMENT_CORRUPT');
      expect(results.nargs?.fetch).toBe('ERR_SEGMENT_CORRUPT');
      expect(results['error-len']?.[`wait ${2 ** 20}`]).toBe('ERR_SEGMENT_CORRUPT');
      expect(results.recovery?.stats, 'a recovery that cannot succeed reports it').toBe('ERR_SEGMENT_CORRUPT');
      expect(results.geometry, 'the geometry read at open is kept').toMatchObject({ fetch: 'ok', submit: 'ok', stats: 'ok', reopen: 'ERR_LAYOUT_MISMATCH' });
      for (const s of Object.values(scheds)) s.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'worker threads, absurd sizes and a close while holding the lock: typed errors, no signal reaches JavaScript',
    async () => {
      const names = ['thread', 'sizes', 'locked', 'after'].map((t) => sandbox.segment(t));
      const child = await spawnChild({ label: 'abuser' });
      const out = await child.run(hfx, 'abuse', { names }, 30_000);
      expect(child.alive).toBe(true);
      expect(out).toEqual({
        thread: 'ok',
        afterThread: 'ok',
        'capacity 2^32': 'ERR_INVALID_ARGUMENT',
        'capacity 1e300': 'ERR_INVALID_ARGUMENT',
        'capacity NaN': 'ERR_INVALID_ARGUMENT',
        'maxTasks 2^31': 'ERR_INVALID_ARGUMENT',
        'maxWorkers -1': 'ERR_INVALID_ARGUMENT',
        'leaseMs 2^53': 'ERR_INVALID_ARGUMENT',
        lockThenClose: 'ok',
        afterLockedClose: 'ok',
      });
    },
    { weight: Severity.data },
  );
});

