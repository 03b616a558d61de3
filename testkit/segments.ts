// Unique segment names and their cleanup. Cleanup removes /dev/shm files directly, so it works even
// when the student's unlink() is unfinished.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';

import { processAlive } from '../lib/process.js';

export const SHM_DIR = '/dev/shm';
// Every segment a test creates starts with this prefix, so leftovers are easy to find and remove.
export const TEST_PREFIX = 'miniray-test-';
// The harness's own tests mark their runs' segments (MINIRAY_SEGMENT_MARK, letters and digits, put
// after the pid), so that what a run left behind is told apart from any other run's segments.
const MARK = /^[A-Za-z0-9]{1,16}$/.test(process.env.MINIRAY_SEGMENT_MARK ?? '') ? `${process.env.MINIRAY_SEGMENT_MARK}-` : '';

let counter = 0;
const tracked = new Set<string>();

// A fresh POSIX name ('/miniray-test-<pid>-<n>-<random>-<tag>'), tracked for cleanup.
export function uniqueSegmentName(tag = 'seg'): string {
  counter += 1;
  const safeTag = tag.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 40);
  const name = `/${TEST_PREFIX}${process.pid}-${MARK}${counter}-${randomBytes(3).toString('hex')}-${safeTag}`;
  tracked.add(name);
  return name;
}

// Also track a name made elsewhere (e.g. by a child process).
export function trackSegment(name: string): void {
  tracked.add(name);
}

export function segmentExists(name: string): boolean {
  return existsSync(`${SHM_DIR}${name}`);
}

export function removeTrackedSegments(): void {
  for (const name of tracked) rmSync(`${SHM_DIR}${name}`, { force: true });
  tracked.clear();
}

// mini-Ray's own segments by default ('/miniray-rt-<driver pid>-<random>-store'): a driver killed
// before shutdown() (a verify step stopped by another lane's failure) leaves them behind.
export const RUNTIME_PREFIX = 'miniray-rt-';

// Test segments, and mini-Ray's, of processes that no longer run (a crashed earlier run).
export function removeStaleTestSegments(): string[] {
  const removed: string[] = [];
  if (!existsSync(SHM_DIR)) return removed;
  for (const file of readdirSync(SHM_DIR)) {
    const prefix = [TEST_PREFIX, RUNTIME_PREFIX].find((p) => file.startsWith(p));
    if (prefix === undefined) continue;
    const pid = Number(file.slice(prefix.length).split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) continue;
    rmSync(`${SHM_DIR}/${file}`, { force: true });
    removed.push(file);
  }
  return removed;
}
