// The watchdog's main-process side: vitest's forks pool with a guard on every test process.
//
// vitest cannot time out a test whose process is blocked in synchronous C++ (its timer never fires),
// and when a test process dies it reports only "Worker exited unexpectedly", dropping the tests it
// did not finish. This pool starts test processes exactly as vitest's own forks pool does, and:
//   - every 250 ms reads each process's breadcrumb (worker-setup.ts); a test running past its
//     timeout plus a grace period is hung: the watchdog notes the test, the native call it is in and
//     what the kernel says it waits on, kills the process and its children, and vitest goes on with
//     the other files;
//   - when a process dies (a signal, an exit code, or the watchdog), it records the signal, the test
//     that was running and its file, kills the children left behind and removes their segments.
// reporter.ts turns those records into failed tests (the lost ones count) and a closing summary.
//
//   vitest.config.ts:  pool: watchedForks()
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

import type { PoolOptions, PoolWorker, WorkerRequest } from 'vitest/node';

import { SHM_DIR, TEST_PREFIX } from '../segments.js';
import { describeBlocked, killRecorded, killTree, startTime } from './procs.js';
import {
  DEFAULT_GRACE_MS,
  WATCHDOG_DIR_ENV,
  WATCHDOG_GRACE_ENV,
  WATCHDOG_LIMIT_ENV,
  breadcrumbFile,
  callingFile,
  envMs,
  readChildren,
  readJson,
  readResults,
  type Breadcrumb,
  type CallingNote,
  type FinishedTest,
} from './shared.js';

export const POOL_NAME = 'miniray-forks';
const POLL_MS = 250;

// What happened to one test process that did not end the normal way.
export interface KillRecord {
  readonly kind: 'crash' | 'hang';
  readonly pid: number;
  readonly root: string; // the project root, for relative paths
  readonly file: string | undefined; // absolute path of the test file it was in
  readonly files: readonly string[]; // every file the process was given
  readonly phase: Breadcrumb['phase'] | undefined;
  readonly taskId: string | undefined;
  readonly test: string | undefined;
  readonly signal: string | null;
  readonly code: number | null;
  readonly elapsedMs: number | undefined; // hang: how long the test ran
  readonly limitMs: number | undefined; // hang: its timeout (or the watchdog's limit, when lower)
  readonly calling: string | undefined; // hang: the native call it was in
  readonly blocked: string | undefined; // hang: what the kernel says it waits on
  readonly children: number; // children killed
  readonly segments: number; // segments removed
  readonly finished: readonly FinishedTest[]; // results the process recorded before it died
}

// Shared with reporter.ts and the grader's reporter, which vitest may load as separate module
// instances: the records live on globalThis.
const RECORDS = Symbol.for('miniray.watchdog.records');
const slot = globalThis as { [RECORDS]?: KillRecord[] };
export function killRecords(): KillRecord[] {
  slot[RECORDS] ??= [];
  return slot[RECORDS];
}

const SIGNALS: Readonly<Record<string, string>> = {
  SIGSEGV: 'a segmentation fault, memory read or written outside what is mapped (a bad pointer, or an offset not checked against the segment)',
  SIGBUS: 'a bus error, memory of a mapping past the end of its file (a segment smaller than what was mapped)',
  SIGABRT: 'abort(), an uncaught C++ exception that escaped the glue, or a failed assertion',
  SIGFPE: 'an arithmetic fault (a division by zero?)',
  SIGILL: 'an illegal instruction (undefined behaviour reached, e.g. the end of a function that returns a value)',
  SIGKILL: 'SIGKILL from outside the test (out of memory?)',
};

// One paragraph: what happened, in which test and file, and what to look at.
export function describeKill(r: KillRecord): string {
  const file = r.file === undefined ? 'its test file' : relative(r.root, r.file);
  const where =
    r.phase === 'after' && r.test !== undefined
      ? `while cleaning up after '${r.test}' in ${file}`
      : r.phase === 'test' && r.test !== undefined
        ? `while running '${r.test}' in ${file}`
        : `while loading ${file} (before its first test or after its last)`;
  const cleaned = [
    r.children > 0 ? `killed ${r.children} child process${r.children === 1 ? '' : 'es'} it left` : '',
    r.segments > 0 ? `removed ${r.segments} segment${r.segments === 1 ? '' : 's'} it left in /dev/shm` : '',
  ].filter((s) => s !== '');
  const tail = cleaned.length > 0 ? ` The watchdog ${cleaned.join(' and ')}.` : '';
  if (r.kind === 'hang') {
    const secs = (ms: number | undefined): string => `${Math.round((ms ?? 0) / 1000)} s`;
    const calling = r.calling === undefined ? '' : `, inside ${r.calling}`;
    const blocked = r.blocked === undefined ? '' : `; it was ${r.blocked}`;
    return `hung ${where}: no progress for ${secs(r.elapsedMs)} (its timeout: ${secs(r.limitMs)})${calling}${blocked}. The watchdog killed its test process; the other test files go on.${tail}`;
  }
  const how = r.signal !== null ? `killed by ${r.signal}` : `exited with code ${r.code}`;
  const why = r.signal === null ? undefined : SIGNALS[r.signal];
  return `${how} ${where}${why === undefined ? '' : `: ${why}`}.${tail}`;
}

// Removes /dev/shm/miniray-test-<pid>-* of the given (dead) processes; returns how many.
function removeSegmentsOf(pids: readonly number[]): number {
  let removed = 0;
  let names: string[] = [];
  try {
    names = readdirSync(SHM_DIR);
  } catch {
    return 0;
  }
  const prefixes = pids.map((p) => `${TEST_PREFIX}${p}-`);
  for (const n of names) {
    if (!prefixes.some((p) => n.startsWith(p))) continue;
    rmSync(join(SHM_DIR, n), { force: true });
    removed += 1;
  }
  return removed;
}

interface Pending {
  readonly crumb: Breadcrumb;
  readonly calling: string | undefined;
  readonly blocked: string | undefined;
  readonly elapsedMs: number;
  readonly limitMs: number;
  readonly children: number;
}

class Monitor {
  private dirPath: string | undefined;
  private readonly workers = new Set<WatchedForksWorker>();
  private timer: NodeJS.Timeout | undefined;
  readonly graceMs = envMs(WATCHDOG_GRACE_ENV, DEFAULT_GRACE_MS);
  readonly limitMs = envMs(WATCHDOG_LIMIT_ENV, Number.POSITIVE_INFINITY);

  get dir(): string {
    if (this.dirPath === undefined) {
      const dir = mkdtempSync(join(tmpdir(), `miniray-watchdog-${process.pid}-`));
      this.dirPath = dir;
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    }
    return this.dirPath;
  }

  add(w: WatchedForksWorker): void {
    this.workers.add(w);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.poll(), POLL_MS);
      this.timer.unref();
    }
  }

  remove(w: WatchedForksWorker): void {
    this.workers.delete(w);
    if (this.workers.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private poll(): void {
    const now = Date.now();
    for (const w of this.workers) {
      if (w.pid === undefined || w.stopping || w.pending !== undefined) continue;
      const crumb = readJson<Breadcrumb>(breadcrumbFile(this.dir, w.pid));
      if (crumb === undefined || crumb.pid !== w.pid) continue;
      // The harness's own limit (WATCHDOG_LIMIT_ENV) applies to tests, not to loading a file.
      const limit = crumb.phase === 'test' ? this.limitMs : Number.POSITIVE_INFINITY;
      if (now - crumb.since <= Math.min(crumb.limitMs + this.graceMs, limit)) continue;
      // Read what it is doing before it dies.
      const calling = readJson<CallingNote>(callingFile(this.dir, w.pid));
      const blocked = describeBlocked(w.pid);
      const recorded = readChildren(this.dir, w.pid);
      const children = recorded.filter((c) => startTime(c.pid) === c.start).length;
      w.pending = { crumb, calling: calling?.call, blocked, elapsedMs: now - crumb.since, limitMs: Math.min(crumb.limitMs, limit), children };
      // The test process first: a child killed while it still runs could unblock it (a lock
      // recovered from a dead holder), and it would record a result the hang never earned.
      killTree(w.pid);
      killRecorded(recorded);
    }
  }

  // A test process ended without being asked to: record why, and clean up after it.
  exited(w: WatchedForksWorker, code: number | null, signal: string | null): KillRecord | undefined {
    if (w.pid === undefined) return undefined;
    const pending = w.pending;
    if (w.stopping && pending === undefined) return undefined;
    const crumb = pending?.crumb ?? readJson<Breadcrumb>(breadcrumbFile(this.dir, w.pid));
    const recorded = readChildren(this.dir, w.pid);
    const children = (pending?.children ?? 0) + killRecorded(recorded);
    const segments = removeSegmentsOf([w.pid, ...recorded.map((c) => c.pid)]);
    const record: KillRecord = {
      kind: pending === undefined ? 'crash' : 'hang',
      pid: w.pid,
      root: w.root,
      file: crumb?.file !== undefined && crumb.file !== '' ? crumb.file : w.files[0],
      files: w.files,
      phase: crumb?.phase,
      taskId: crumb?.taskId,
      test: crumb?.test,
      signal: pending === undefined ? signal : null,
      code: pending === undefined ? code : null,
      elapsedMs: pending?.elapsedMs,
      limitMs: pending?.limitMs,
      calling: pending?.calling,
      blocked: pending?.blocked,
      children,
      segments,
      finished: readResults(this.dir, w.pid),
    };
    killRecords().push(record);
    return record;
  }
}

const monitor = new Monitor();

// vitest's ForksPoolWorker, with the watchdog attached (see vitest/dist: workers/forks.js is the
// entry point every forks worker runs).
class WatchedForksWorker implements PoolWorker {
  readonly name = POOL_NAME;
  readonly cacheFs = true;
  private proc: ChildProcess | undefined;
  pid: number | undefined;
  files: string[] = [];
  stopping = false;
  pending: Pending | undefined;
  readonly root: string;

  constructor(private readonly options: PoolOptions) {
    this.root = options.project.config.root;
  }

  private get child(): ChildProcess {
    if (this.proc === undefined) throw new Error('the test process was torn down or never started');
    return this.proc;
  }

  on(event: string, callback: (arg: unknown) => void): void {
    this.child.on(event, callback);
  }

  off(event: string, callback: (arg: unknown) => void): void {
    this.child.off(event, callback);
  }

  send(message: WorkerRequest): void {
    if (message.type === 'run' || message.type === 'collect') this.files = message.context.files.map((f) => f.filepath);
    this.child.send(message);
  }

  deserialize(data: unknown): unknown {
    return data;
  }

  async start(): Promise<void> {
    if (this.proc !== undefined) return;
    const logger = this.options.project.vitest.logger;
    const proc = fork(resolve(this.options.distPath, 'workers/forks.js'), [], {
      env: { ...this.options.env, [WATCHDOG_DIR_ENV]: monitor.dir },
      execArgv: this.options.execArgv,
      stdio: 'pipe',
      serialization: 'advanced',
    });
    this.proc = proc;
    this.pid = proc.pid;
    proc.stdout?.pipe(logger.outputStream, { end: false });
    proc.stderr?.pipe(logger.errorStream, { end: false });
    // Registered before vitest's own 'exit' listener, so the record exists when vitest reacts.
    proc.on('exit', (code, signal) => {
      monitor.remove(this);
      const record = monitor.exited(this, code, signal);
      if (record !== undefined) logger.error(`\n[watchdog] ${describeKill(record)}\n`);
    });
    monitor.add(this);
  }

  async stop(): Promise<void> {
    const proc = this.child;
    this.stopping = true;
    const exited = new Promise<void>((done) => {
      if (proc.exitCode !== null || proc.signalCode !== null) done();
      else proc.once('exit', () => done());
    });
    // As vitest's own pool: SIGTERM, then SIGKILL if the process does not go.
    const kill = setTimeout(() => proc.kill('SIGKILL'), 500);
    proc.kill();
    await exited;
    clearTimeout(kill);
    proc.stdout?.unpipe();
    proc.stderr?.unpipe();
    this.proc = undefined;
  }
}

// The pool for vitest.config.ts (`pool: watchedForks()`).
export function watchedForks(): { readonly name: string; createPoolWorker(options: PoolOptions): PoolWorker } {
  return { name: POOL_NAME, createPoolWorker: (options) => new WatchedForksWorker(options) };
}
