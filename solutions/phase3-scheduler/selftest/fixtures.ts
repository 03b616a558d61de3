// Child-process code for the glue self-tests: calls a program could make on the raw addons, which
// the harnesses never make, run where a crash is seen as the child's signal.
import type { Fixture } from '../../../testkit/protocol.js';
import { attempt, type OpOutcome } from '../../../testkit/hostile.js';
import { loadAddon } from '../../../lib/native.js';

type Ctor = new (...args: unknown[]) => unknown;
interface SchedulerClass extends Ctor {
  create: (...args: unknown[]) => unknown;
  unlink: (name: string) => void;
}
interface StoreAddon {
  create: (name: string, capacity: number, tableSize: number, lockTimeoutMs: number) => { close(): void; constructor: Ctor };
  unlink: (name: string) => void;
}

// Calls phase 3's create() on a class of our own (its `this`), keeps whatever that class's
// constructor is given, and hands it to the scheduler's and the phase-2 store's constructors later
// (after other calls have reused the stack). Returns what the foreign class got and each outcome.
export const hijackedConstructor: Fixture<{ scheduler: string; store: string }, { given: number; outcomes: OpOutcome[] }> = ({
  scheduler,
  store,
}) => {
  const Scheduler = loadAddon<{ NativeScheduler: SchedulerClass }>('phase3').NativeScheduler;
  const phase2 = loadAddon<StoreAddon>('phase2');
  let given: unknown[] = [];
  const outcomes = [
    attempt('create on a foreign class', () =>
      Scheduler.create.call(function foreign(...args: unknown[]) {
        given = args;
      }, scheduler, 2, 8, 4, 1000, 0, 3),
    ),
  ];
  Scheduler.unlink(scheduler);
  const s = phase2.create(store, 1 << 16, 64, 1000);
  const StoreClass = s.constructor;
  s.close();
  phase2.unlink(store);
  for (const [i, value] of [...given, undefined, {}].entries()) {
    outcomes.push(attempt(`new NativeScheduler(argument ${i})`, () => new Scheduler(value)));
    outcomes.push(attempt(`new NativeObjectStore(argument ${i})`, () => new StoreClass(value)));
  }
  return { given: given.length, outcomes };
};
