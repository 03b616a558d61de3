// The test process's side of the watchdog (a vitest setup file). It writes, synchronously, which
// test runs since when (a blocked process can send nothing over vitest's channel, but a file it
// wrote before blocking is still there), and starts a helper thread that notes the native call
// the main thread has been inside for a while. The main process (pool.ts) reads both when a test
// outlives its timeout or the process dies.
import { appendFileSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, expect } from 'vitest';

import { setCallTracer } from '../../lib/call-trace.js';
import { WATCHDOG_DIR_ENV, breadcrumbFile, callingFile, resultsFile, type Breadcrumb, type FinishedTest } from './shared.js';

// Loading a file (imports, beforeAll) gets this long before it counts as hung.
const LOAD_LIMIT_MS = 60_000;

// The helper thread: every 500 ms, if the main thread is still inside the same native call as at
// the last look, write what it is calling; remove the note once the call returns. Plain JS, run
// with eval, so that it needs no TypeScript loader.
const TRACER_THREAD = `
const { workerData, parentPort } = require('node:worker_threads');
const { writeFileSync, rmSync } = require('node:fs');
const crumb = new Int32Array(workerData.buffer);
const names = [];
parentPort.on('message', (m) => { names[m.index] = m.name; });
let lastSeq = -1;
let since = Date.now();
let written = false;
setInterval(() => {
  const seq = Atomics.load(crumb, 0);
  if (Atomics.load(crumb, 1) > 0 && seq === lastSeq) {
    if (!written) {
      writeFileSync(workerData.file, JSON.stringify({ call: names[Atomics.load(crumb, 2)] || 'a native call', since }));
      written = true;
    }
    return;
  }
  if (written) rmSync(workerData.file, { force: true });
  written = false;
  lastSeq = seq;
  since = Date.now();
}, 500);
`;

const dir = process.env[WATCHDOG_DIR_ENV];
const started = Symbol.for('miniray.watchdog.worker');
const state = globalThis as { [started]?: true };

function crumb(c: Omit<Breadcrumb, 'pid'>): void {
  if (dir === undefined) return;
  writeFileSync(breadcrumbFile(dir, process.pid), JSON.stringify({ pid: process.pid, ...c }));
}

if (dir !== undefined && dir !== '') {
  const testPath = expect.getState().testPath ?? '';
  crumb({ file: testPath, phase: 'load', taskId: undefined, test: undefined, since: Date.now(), limitMs: LOAD_LIMIT_MS });

  if (state[started] !== true) {
    state[started] = true;
    // [0] call sequence number, [1] inside a call (0/1), [2] the call's name index.
    const buffer = new SharedArrayBuffer(12);
    const cells = new Int32Array(buffer);
    const thread = new Worker(TRACER_THREAD, { eval: true, workerData: { buffer, file: callingFile(dir, process.pid) } });
    thread.unref();
    const names = new Map<string, number>();
    setCallTracer({
      register(name) {
        let index = names.get(name);
        if (index === undefined) {
          index = names.size;
          names.set(name, index);
          thread.postMessage({ index, name });
        }
        return index;
      },
      enter(index) {
        cells[2] = index;
        cells[0] = (cells[0] ?? 0) + 1;
        Atomics.store(cells, 1, 1);
      },
      exit() {
        Atomics.store(cells, 1, 0);
      },
    });
  }

  beforeEach((ctx) => {
    const t = ctx.task;
    crumb({ file: t.file.filepath, phase: 'test', taskId: t.id, test: t.fullTestName, since: Date.now(), limitMs: t.timeout });
    // vitest sends results in batches, so a process that dies takes the last few with it: keep
    // each one here as well, so that the tests that finished before a crash keep their results.
    ctx.onTestFinished(() => {
      const r = t.result;
      if (r === undefined || (r.state !== 'pass' && r.state !== 'fail')) return;
      const finished: FinishedTest = { taskId: t.id, state: r.state, errors: r.errors ?? [], durationMs: r.duration };
      appendFileSync(resultsFile(dir, process.pid), `${JSON.stringify(finished)}\n`);
    });
  });

  afterEach((ctx) => {
    const t = ctx.task;
    crumb({ file: t.file.filepath, phase: 'after', taskId: t.id, test: t.fullTestName, since: Date.now(), limitMs: t.timeout });
  });
}
