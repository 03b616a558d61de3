// One operation on a scheduler, run by the crash-point suite in a process of its own, with the
// reference built with crash points (build/Release/phase3_crash.node). With MINIRAY_CRASH_AT set,
// the process is SIGKILLed at that point; with MINIRAY_CRASH_LOG set, it lists the points it passed.
// Plain JavaScript on the addon itself (no TypeScript loader): a process starts in tens of
// milliseconds, so every crash point gets a fresh one.
//
//   node crash-child.mjs <op> <segment> [taskId]
//   ops: submit, register, fetch, complete, fail, wait <task>, reap, close, recover, lock-and-die
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const addonFile = fileURLToPath(new URL('../../../build/Release/phase3_crash.node', import.meta.url));
const addon = createRequire(import.meta.url)(addonFile);
addon.setErrorClass(
  class CrashChildError extends Error {
    constructor(code, message) {
      super(`${code}: ${message}`);
      this.code = code;
    }
  },
);

const [op, name, arg] = process.argv.slice(2);
const RESULT = 'b'.repeat(40);
const sched = addon.NativeScheduler.open(name, 5000);

switch (op) {
  case 'submit':
    sched.submit('crashing submit', [], 0, 0);
    break;
  case 'register':
    sched.registerWorker();
    break;
  case 'fetch':
    sched.fetch(sched.registerWorker(), 0);
    break;
  case 'complete':
  case 'fail': {
    const worker = sched.registerWorker();
    const task = sched.fetch(worker, 0);
    if (op === 'complete') sched.complete(worker, task.id, RESULT);
    else sched.fail(worker, task.id, 'crashing fail');
    break;
  }
  case 'wait':
    sched.wait(Number(arg), 0);
    break;
  case 'reap':
    sched.reap();
    break;
  case 'close': {
    const worker = sched.registerWorker();
    sched.fetch(worker, 0);
    sched.close();
    break;
  }
  case 'recover':
    sched.stats(); // the previous holder died: this lock runs Recover()
    break;
  case 'lock-and-die':
    sched.debugLock();
    process.kill(process.pid, 'SIGKILL');
    break;
  default:
    console.error(`crash-child: unknown op ${op}`);
    process.exit(2);
}
sched.close();
