// Deliberately broken student code for the harness's own tests: the phase-1 reference with faults
// planted where a student plants them, in a scratch copy of the course, and ways to see what a run
// left behind (segments, processes).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { REPO_ROOT } from '../../lib/phases.js';
import { SHM_DIR } from '../../testkit/segments.js';
import { killTree } from '../../testkit/watchdog/procs.js';
import { makeScratch, type Scratch } from '../grading/course-files.js';

export const STUDENT_CC = 'phase1-shm/src/shm_store.cc';
export const STUDENT_H = 'phase1-shm/src/shm_store.h';

export interface Fault {
  readonly anchor: string | RegExp; // where, in the reference
  readonly replace: (match: string) => string;
}

// A SIGSEGV in Get, for 1 MiB objects only: the first test of putget.test.ts reads one back.
export const SEGFAULT_IN_GET: Fault = {
  anchor: /return \{g\.data_offset \+ offset, size\};/,
  replace: (m) => `if (size == (1u << 20)) *static_cast<volatile int*>(nullptr) = 1;\n      ${m}`,
};

// A lock that waits without a deadline: a put while another process holds the lock never returns.
export const LOCK_WITHOUT_DEADLINE: Fault = {
  anchor: 'return pthread_mutex_clocklock(&h->mutex, CLOCK_MONOTONIC, &deadline);',
  replace: () => 'return pthread_mutex_lock(&h->mutex);',
};

// An unused helper: a warning, which must not stop a student's build.
export const UNUSED_HELPER: Fault = {
  anchor: /^namespace miniray::phase1 \{$/m,
  replace: (m) => `${m}\n\nstatic int UnusedHelper(int x) { return x + 1; }`,
};

// The reference's student file with `faults` planted; throws when the reference changed under one.
export function planted(faults: readonly Fault[]): Buffer {
  let text = readFileSync(join(REPO_ROOT, 'solutions', STUDENT_CC), 'utf8');
  for (const f of faults) {
    const found = typeof f.anchor === 'string' ? text.includes(f.anchor) : f.anchor.test(text);
    if (!found) throw new Error(`the phase-1 reference no longer has '${String(f.anchor)}': update tools/test/planted.ts`);
    text = text.replace(f.anchor, f.replace);
  }
  return Buffer.from(text);
}

// A scratch copy of the course (its build reused) with the reference header and a planted .cc.
export async function plantedScratch(label: string, faults: readonly Fault[]): Promise<Scratch> {
  const scratch = await makeScratch({ from: REPO_ROOT, reuseBuild: true, label });
  scratch.overlay(
    new Map([
      [STUDENT_H, readFileSync(join(REPO_ROOT, 'solutions', STUDENT_H))],
      [STUDENT_CC, planted(faults)],
    ]),
  );
  return scratch;
}

export interface Ran {
  readonly code: number | null;
  readonly output: string;
}

// Runs a command to its end (bounded), stdout and stderr together; kills its whole tree on timeout.
export function run(cmd: string, args: readonly string[], options: { cwd: string; env?: Record<string, string>; timeoutMs: number }): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...options.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      output += `\n[test] killed after ${options.timeoutMs} ms`;
      killTree(child.pid ?? 0);
    }, options.timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

export const nodeArgs = (script: string, ...args: string[]): string[] => ['--import', 'tsx', script, ...args];

// Segments in /dev/shm that carry `mark` (testkit/segments.ts, MINIRAY_SEGMENT_MARK).
export function markedSegments(mark: string): string[] {
  return readdirSync(SHM_DIR).filter((n) => n.includes(`-${mark}-`));
}

export function removeMarkedSegments(mark: string): void {
  for (const n of markedSegments(mark)) rmSync(join(SHM_DIR, n), { force: true });
}

// Processes whose working directory is inside `root` (test processes and their children run there).
export function processesIn(root: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${e}/cwd`);
      if (cwd === root || cwd.startsWith(`${root}/`)) out.push(Number(e));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

// Waits (bounded) until no process runs in `root`; returns those still there.
export async function settled(root: string, timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = processesIn(root);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    left = processesIn(root).filter((p) => existsSync(`/proc/${p}`));
  }
  return left;
}
