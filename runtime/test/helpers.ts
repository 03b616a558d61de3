// Shared by the runtime's suites: the task module's handle, and bounded waits on runtime events.
import { existsSync, readFileSync } from 'node:fs';

import { childProcesses } from '../../lib/process.js';
import { withTimeout } from '../../testkit/children.js';
import { uniqueSegmentName } from '../../testkit/segments.js';
import type { InitOptions, Runtime, TimelineEntry } from '../index.js';

export const TASKS = new URL('./tasks.ts', import.meta.url);

// Tracked test names for both segments (removed by the sandbox even when a test fails).
export function testSegments(tag: string): NonNullable<InitOptions['segments']> {
  return { store: uniqueSegmentName(`${tag}-store`), scheduler: uniqueSegmentName(`${tag}-sched`) };
}

export const shmExists = (name: string): boolean => existsSync(`/dev/shm${name}`);

// The next start of a task running `fn` (any attempt), within `ms`.
export function nextStart(rt: Runtime, fn: string, ms = 90_000): Promise<TimelineEntry> {
  return withTimeout(
    new Promise<TimelineEntry>((resolve) => {
      const on = (e: TimelineEntry): void => {
        if (e.fn !== fn) return;
        rt.events.off('task-start', on);
        resolve(e);
      };
      rt.events.on('task-start', on);
    }),
    ms,
    `no task of ${fn} started`,
  );
}

// The next worker death the driver has handled (its task re-queued, its replacement starting).
// The scheduler's periodic reap can re-queue a killed worker's task, and another worker finish
// it, before the driver handles the exit: wait for this before counting deaths.
export function nextWorkerDied(rt: Runtime, ms = 90_000): Promise<{ pid: number; lane: number }> {
  return withTimeout(
    new Promise((resolve) => rt.events.once('worker-died', resolve)),
    ms,
    'the driver did not see the worker die',
  );
}

export function nextWorkerStarted(rt: Runtime, ms = 90_000): Promise<{ pid: number; lane: number }> {
  return withTimeout(
    new Promise((resolve) => rt.events.once('worker-started', resolve)),
    ms,
    'no replacement worker started',
  );
}

// The timeline of the tasks running `fns`, once `runs` of them have ended and none is still
// marked running: a worker's notes that a task started and ended may arrive just after the driver
// saw the task done in the scheduler.
export function settledTimeline(rt: Runtime, fns: readonly string[], runs: number, ms = 30_000): Promise<TimelineEntry[]> {
  const mine = (): TimelineEntry[] => rt.timeline().filter((e) => fns.includes(e.fn));
  return withTimeout(
    new Promise<TimelineEntry[]>((resolve) => {
      const check = (): void => {
        const entries = mine();
        if (entries.length < runs || entries.some((e) => e.outcome === 'running')) return;
        rt.events.off('task-end', check);
        resolve(entries);
      };
      rt.events.on('task-end', check);
      check();
    }),
    ms,
    `${runs} runs of ${fns.join(', ')} did not all end: ${JSON.stringify(mine().map((e) => [e.task, e.attempt, e.outcome]))}`,
  );
}

// Live worker processes (runtime/worker.ts) that this process started.
export function workerChildren(): number[] {
  return childProcesses().filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('runtime/worker.ts');
    } catch {
      return false; // it exited while we looked
    }
  });
}
