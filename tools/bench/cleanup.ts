// Everything a benchmark run creates outside itself (shared-memory segments, child processes) is
// registered here and removed on every way out: normal exit, an exception, Ctrl-C, SIGTERM.
import type { ChildProcess } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';

const segments = new Set<string>();
const children = new Set<ChildProcess>();
let counter = 0;

// A fresh, unique segment name, unlinked automatically when the run ends.
export function segmentName(): string {
  counter += 1;
  const name = `/miniray-bench-${process.pid}-${counter}`;
  segments.add(name);
  return name;
}

// Removes a segment's name from /dev/shm (processes that mapped it keep their mapping).
export function removeSegment(name: string): void {
  rmSync(`/dev/shm${name}`, { force: true });
  segments.delete(name);
}

export function trackChild(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

// The pids of the children still running (for noise.ts).
export function childPids(): number[] {
  return [...children].map((c) => c.pid).filter((pid): pid is number => pid !== undefined);
}

export function cleanupAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
  for (const name of [...segments]) removeSegment(name);
}

let installed = false;

// Segments left by a benchmark run that was SIGKILLed (nothing else can remove them).
function removeStaleSegments(): void {
  let names: string[] = [];
  try {
    names = readdirSync('/dev/shm');
  } catch {
    return;
  }
  for (const file of names) {
    const m = /^miniray-bench-(\d+)-\d+$/.exec(file);
    if (m === null || Number(m[1]) === process.pid) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') rmSync(`/dev/shm/${file}`, { force: true });
    }
  }
}

export function installCleanupHandlers(): void {
  if (installed) return;
  installed = true;
  removeStaleSegments();
  process.on('exit', cleanupAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      cleanupAll();
      console.error(`\nbench: interrupted by ${signal}; segments and child processes removed`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}
