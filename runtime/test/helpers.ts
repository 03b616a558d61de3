// Shared by the runtime's suites: the task module's handle, and bounded waits on runtime events.
import { existsSync } from 'node:fs';

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

export function nextWorkerStarted(rt: Runtime, ms = 90_000): Promise<{ pid: number; lane: number }> {
  return withTimeout(
    new Promise((resolve) => rt.events.once('worker-started', resolve)),
    ms,
    'no replacement worker started',
  );
}
