// The crash-point scenarios of phase 3 (see the test files beside this one): the reference built
// with crash points (binding.gyp's phase3_crash, built by vitest's global setup) is killed at every
// crash point of every operation that writes shared state, and each time the next process must
// find a consistent scheduler (the segment checker says so), nothing that had been submitted lost
// or doubled, and a scheduler that works.
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, test } from 'vitest';

import { useSandbox } from '../../../testkit/sandbox.js';
import { Scheduler, type TaskId, type TaskState } from '../../../phase3-scheduler/index.js';
import { resultOf } from '../../../phase3-scheduler/test/fixtures.js';
import { SegmentBytes, TASK, slotOf } from '../hidden/segment-bytes.js';
import { crashPointsOf, killAtEachPassage, killRunning, runNode } from './runner.js';

const CHILD = fileURLToPath(new URL('./crash-child.mjs', import.meta.url));

type Allowed = ReadonlyArray<TaskState | 'absent'>;

interface Setup {
  readonly expect: ReadonlyMap<TaskId, Allowed>; // each known task's allowed states after repair and reap
  readonly arg?: string; // extra argument for the child
  readonly order?: readonly TaskId[]; // the order a drain must fetch these in
  readonly recoveries?: number; // dead lock holders the next locker sees
  readonly unknownSubmits?: number; // a crashed submit may have queued one task we have no id for
}

interface Scenario {
  readonly op: string;
  readonly options?: { leaseMs?: number };
  setup(s: Scheduler, name: string): Setup | Promise<Setup>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const SCENARIOS: readonly Scenario[] = [
  {
    op: 'submit',
    setup: (s) => {
      const a = s.submit({ fn: 'a' });
      const b = s.submit({ fn: 'b' });
      return { expect: new Map([[a, ['queued']], [b, ['queued']]]), order: [a, b], unknownSubmits: 1 };
    },
  },
  { op: 'register', setup: () => ({ expect: new Map() }) },
  {
    op: 'fetch',
    setup: (s) => {
      const a = s.submit({ fn: 'a' });
      const b = s.submit({ fn: 'b' });
      // Not `order`: a task leased to the dead worker goes back behind the other.
      return { expect: new Map([[a, ['queued']], [b, ['queued']]]) };
    },
  },
  {
    op: 'complete',
    setup: (s) => {
      const a = s.submit({ fn: 'a' });
      return { expect: new Map([[a, ['queued', 'done']]]) };
    },
  },
  {
    op: 'fail',
    setup: (s) => {
      const a = s.submit({ fn: 'a' });
      return { expect: new Map([[a, ['queued', 'failed']]]) };
    },
  },
  {
    op: 'wait',
    setup: (s) => {
      const w = s.registerWorker();
      const a = s.submit({ fn: 'a' });
      s.complete(w, s.fetch(w)!.id, resultOf(undefined));
      return { expect: new Map([[a, ['done', 'absent']]]), arg: String(a) };
    },
  },
  {
    op: 'reap',
    options: { leaseMs: 1 },
    setup: async (s, name) => {
      // A lease that has expired, a task on its last attempt whose lease has expired, and a
      // finished task whose submitter is gone.
      const expired = s.submit({ fn: 'expired' });
      s.fetch(s.registerWorker());
      const last = s.submit({ fn: 'last attempt', maxAttempts: 1 });
      s.fetch(s.registerWorker());
      const w = s.registerWorker();
      const orphan = s.submit({ fn: 'orphan' });
      s.complete(w, s.fetch(w)!.id, resultOf(undefined));
      const bytes = new SegmentBytes(name, s.debug.layout());
      bytes.setU32(bytes.task(slotOf(orphan), TASK.ownerPid), 0x7ffffff0);
      await sleep(20);
      return { expect: new Map<TaskId, Allowed>([[expired, ['queued']], [last, ['failed']], [orphan, ['absent']]]) };
    },
  },
  {
    op: 'close',
    setup: (s) => {
      const a = s.submit({ fn: 'a' });
      return { expect: new Map([[a, ['queued']]]) };
    },
  },
  {
    op: 'recover',
    setup: async (s, name) => {
      const ids = [s.submit({ fn: 'a' }), s.submit({ fn: 'b' }), s.submit({ fn: 'c' })];
      const exit = await runNode(CHILD, ['lock-and-die', name], {});
      expect(exit.signal, 'the first holder died holding the lock').toBe('SIGKILL');
      return { expect: new Map(ids.map((id) => [id, ['queued'] as Allowed])), order: ids, recoveries: 1 };
    },
  },
];


async function prepared(sandbox: ReturnType<typeof useSandbox>, scenario: Scenario, tag: string): Promise<{ sched: Scheduler; name: string; setup: Setup }> {
  const name = sandbox.segment(tag);
  const sched = Scheduler.create(name, { queueCapacity: 8, maxWorkers: 8, ...scenario.options });
  const setup = await scenario.setup(sched, name);
  return { sched, name, setup };
}

const stateOf = (sched: Scheduler, id: TaskId): TaskState | 'absent' => {
  try {
    return sched.inspect(id).state;
  } catch {
    return 'absent';
  }
};

// Defines one test per scenario named in `ops`.
export function crashPointTests(ops: readonly string[]): void {
  const sandbox = useSandbox();
  afterAll(killRunning);
  describe('phase 3 crash points: a process killed between any two writes of shared state', () => {
    for (const scenario of SCENARIOS.filter((s) => ops.includes(s.op))) {
      test(`${scenario.op}: killed at each of its crash points (every passage, or the first ones and the last), the scheduler is repaired and keeps every task`, async () => {
        // Which points does the operation pass?
        const probe = await prepared(sandbox, scenario, `${scenario.op}-probe`);
        const points = await crashPointsOf(CHILD, [scenario.op, probe.name, probe.setup.arg ?? '']);
        probe.sched.close();
        expect(points.length, `${scenario.op} passes crash points`).toBeGreaterThan(0);
        const coverage: string[] = [];
        for (const point of points) {
          const c = await killAtEachPassage(CHILD, point, {
            prepare: () => prepared(sandbox, scenario, `${scenario.op}-${point}`),
            args: ({ name, setup }) => [scenario.op, name, setup.arg ?? ''],
            dispose: ({ sched }) => sched.close(),
            check: ({ sched, name, setup }, passage) => {
              const at = `${point}:${passage}`;
              // The next locker repairs whatever the dead one left.
              expect(sched.stats().lockRecoveries, `${at}: the dead holder was noticed`).toBe((setup.recoveries ?? 0) + 1);
              expect(Scheduler.check(name).problems, `${at}: consistent after recovery`).toEqual([]);
              sched.reap(); // the dead process's worker, if it had registered one
              expect(Scheduler.check(name).problems, `${at}: consistent after reap`).toEqual([]);
              for (const [id, allowed] of setup.expect) expect(allowed, `${at}: task ${id}`).toContain(stateOf(sched, id));
              const known = [...setup.expect.keys()].filter((id) => stateOf(sched, id) !== 'absent').length;
              const tasks = sched.stats().tasks;
              expect(tasks, `${at}: no task lost`).toBeGreaterThanOrEqual(known);
              expect(tasks, `${at}: no task made up`).toBeLessThanOrEqual(known + (setup.unknownSubmits ?? 0));
              // And it keeps working: every queued task runs once, in order.
              const worker = sched.registerWorker();
              const drained: TaskId[] = [];
              for (let t = sched.fetch(worker); t !== null; t = sched.fetch(worker)) {
                drained.push(t.id);
                sched.complete(worker, t.id, resultOf(undefined));
              }
              expect(new Set(drained).size, `${at}: nothing fetched twice`).toBe(drained.length);
              if (setup.order !== undefined) expect(drained.slice(0, setup.order.length), `${at}: in order`).toEqual(setup.order);
              for (const id of drained) expect(sched.wait(id).state).toBe('done');
              for (const id of setup.expect.keys()) if (stateOf(sched, id) !== 'absent') sched.wait(id);
              const fresh = sched.submit({ fn: 'after the crash' });
              sched.complete(worker, sched.fetch(worker)!.id, resultOf(undefined));
              expect(sched.wait(fresh).state).toBe('done');
              expect(sched.stats()).toMatchObject({ tasks: 0, queued: 0, leased: 0 });
              expect(Scheduler.check(name).problems).toEqual([]);
            },
          });
          coverage.push(`${point} ${c.killed === c.passages ? `${c.passages}/${c.passages}` : `${c.killed} of ${c.passages} passages`}`);
        }
        console.info(`phase 3 ${scenario.op}: killed at ${coverage.join(', ')}`);
      }, 120_000);
    }
  });
}
