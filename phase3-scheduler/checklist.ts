// Phase 3's checklist: what is graded, for how many points, and where to look.
import { defineChecklist } from '../testkit/checklist.js';

export const checklist = defineChecklist('phase3', {
  ring: {
    id: '3.1',
    title: 'A bounded task queue in the segment: a ring with ever-growing head and tail, FIFO, full and empty, wrap-around',
    points: 20,
    todo:
      'TaskQueue::Size, Push, Pop, At, Rebuild in phase3-scheduler/src/task_queue.cc; TaskTable::At, Find, Allocate, Free ' +
      'in task_table.cc; Scheduler::Submit, PushLocked and Stats in scheduler.cc (a task has to be fetched too: see 3.2)',
    hint:
      'A counter names a position, counter % slots names a slot. Which difference of the two counters says how many ' +
      'tasks are queued, and what values can it take? Then the full and the empty test need no extra flag and no wasted slot.',
  },
  tasks: {
    id: '3.2',
    title: "A task's life: submit, fetch, complete or fail, and a wait that collects the outcome from any process",
    points: 20,
    todo:
      'Scheduler::RegisterWorker, Fetch, Complete, Fail, FinishLocked, Wait and Inspect in phase3-scheduler/src/scheduler.cc; ' +
      'WorkerTable::At, Find, Register in worker_table.cc',
    hint:
      'Every transition is a few writes under the lock: the record, the worker, the counts. Before you change anything, ' +
      'check that the caller may: does this worker hold this task, is this id still the task it was (generation)?',
  },
  blocking: {
    id: '3.3',
    title: 'Blocking on both ends: fetch sleeps until a task arrives, submit sleeps while the queue is full, with timeouts',
    points: 20,
    todo: 'the waiting loops of Scheduler::Submit, Fetch and Wait, and Scheduler::Close in phase3-scheduler/src/scheduler.cc',
    hint:
      'Three futex words, one per event. A waiter reads its word under the lock and sleeps on it after unlocking; whoever ' +
      'makes the event happen bumps that word under the lock and wakes after unlocking. Re-check after every wake-up, with ' +
      'the time that is left.',
  },
  workers: {
    id: '3.4',
    title: "Workers that die: pid and start time, heartbeats, a dead worker's task re-queued, failed after maxAttempts",
    points: 20,
    todo: 'Scheduler::Reap, RequeueOrFailLocked, Heartbeat, Workers and Close in phase3-scheduler/src/scheduler.cc',
    hint:
      'A worker is dead when its process is gone (IsAlive compares pid *and* start time) or when it holds a task and its ' +
      'last sign of life is older than the lease. Look at /proc outside the lock, decide inside it.',
  },
  stress: {
    id: '3.5',
    title: 'Many producers and consumers, and processes that die holding the lock: nothing lost, nothing twice',
    points: 20,
    todo: 'everything above, plus Scheduler::Recover in phase3-scheduler/src/scheduler.cc',
    hint:
      'The task records are the truth; the ring and the counts can be rebuilt from them. Recover() must give the same ' +
      'result however far the dead holder got, and also when it is itself interrupted and run again.',
  },
});
