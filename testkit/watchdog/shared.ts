// What the watchdog's two sides share: the main vitest process (pool.ts, reporter.ts) and each test
// process (worker-setup.ts). A test process cannot report over vitest's channel once synchronous
// C++ blocks it, so it leaves breadcrumbs in files the main process reads: which test runs since
// when, the children it spawned, and (written by a helper thread) the native call it is stuck in.
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { startTime } from './procs.js';

// Set by the pool for every test process: the directory of the breadcrumbs.
export const WATCHDOG_DIR_ENV = 'MINIRAY_WATCHDOG_DIR';
// How long past its own timeout a test may run before the watchdog kills it (default 10 s).
export const WATCHDOG_GRACE_ENV = 'MINIRAY_WATCHDOG_GRACE_MS';
// For the harness's own tests: give up on any test after this many ms, whatever its timeout.
export const WATCHDOG_LIMIT_ENV = 'MINIRAY_WATCHDOG_LIMIT_MS';

export const DEFAULT_GRACE_MS = 10_000;

export interface Breadcrumb {
  readonly pid: number;
  readonly file: string; // absolute path of the test file
  // load: importing the file or in its beforeAll; test: in a test (or its hooks); after: cleaning
  // up after `test`, or in afterAll.
  readonly phase: 'load' | 'test' | 'after';
  readonly taskId: string | undefined;
  readonly test: string | undefined; // suites and name joined by ' > '
  readonly since: number; // Date.now() when this phase began
  readonly limitMs: number; // the test's (or hook's) own timeout
}

// The native call a test process has been inside for a while (written by its tracer thread).
export interface CallingNote {
  readonly call: string; // e.g. "put() of the phase1 addon"
  readonly since: number;
}

// A test's result as the test process saw it, kept in case the process dies before vitest hears it.
export interface FinishedTest {
  readonly taskId: string;
  readonly state: 'pass' | 'fail';
  readonly errors: readonly unknown[]; // vitest's serialised errors
  readonly durationMs: number | undefined;
}

export const breadcrumbFile = (dir: string, pid: number): string => join(dir, `${pid}.json`);
export const childrenFile = (dir: string, pid: number): string => join(dir, `${pid}.children`);
export const callingFile = (dir: string, pid: number): string => join(dir, `${pid}.calling.json`);
export const resultsFile = (dir: string, pid: number): string => join(dir, `${pid}.results`);

export function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined; // absent, or caught half-written: the next poll reads it whole
  }
}

// "<pid> <start time>" lines.
export function readChildren(dir: string, pid: number): Array<{ pid: number; start: string }> {
  let text = '';
  try {
    text = readFileSync(childrenFile(dir, pid), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .map((l) => l.trim().split(' '))
    .filter((f) => f.length === 2 && /^\d+$/.test(f[0] ?? ''))
    .map((f) => ({ pid: Number(f[0]), start: f[1] ?? '' }));
}

export function readResults(dir: string, pid: number): FinishedTest[] {
  let text = '';
  try {
    text = readFileSync(resultsFile(dir, pid), 'utf8');
  } catch {
    return [];
  }
  const out: FinishedTest[] = [];
  for (const line of text.split('\n')) {
    try {
      if (line.trim() !== '') out.push(JSON.parse(line) as FinishedTest);
    } catch {
      // a line cut short by the crash
    }
  }
  return out;
}

export function envMs(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

// Called by the test kit for every child a test spawns, so that the watchdog can kill the children
// of a test process that crashed (they outlive it, re-parented) and remove their segments.
export function noteChild(pid: number): void {
  const dir = process.env[WATCHDOG_DIR_ENV];
  const start = startTime(pid);
  if (dir === undefined || dir === '' || start === undefined) return;
  try {
    appendFileSync(childrenFile(dir, process.pid), `${pid} ${start}\n`);
  } catch {
    // the run is over and its directory gone
  }
}
