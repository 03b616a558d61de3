// How much of the machine other processes used while a round ran: the CPU time the whole machine
// spent busy (/proc/stat, steal included: a hypervisor's other guests) minus what this benchmark's
// own processes spent (/proc/<pid>/stat of this process, its live children, and its reaped ones),
// as a share of the machine's capacity over the round. A quiet machine reads a percent or two; a
// round that reads more than NOISY_SHARE was measured against other work, and a verdict taken
// from it cannot be trusted either way (targets.ts then says "unstable").
import { readFileSync } from 'node:fs';

import { childProcesses } from '../../lib/process.js';
import { childPids } from './cleanup.js';

export const NOISY_SHARE = 0.1;

export interface CpuSnapshot {
  readonly busy: number; // jiffies, all CPUs
  readonly total: number;
  readonly ours: number;
}

function procTimes(pid: number | 'self', withChildren: boolean): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) start at the last ')'.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ').map(Number);
    // utime stime cutime cstime are fields 14-17, i.e. 11-14 after the state (field 3).
    const own = (f[11] ?? 0) + (f[12] ?? 0);
    return withChildren ? own + (f[13] ?? 0) + (f[14] ?? 0) : own;
  } catch {
    return 0; // the child just exited: its time is in our cutime from now on
  }
}

export function cpuSnapshot(): CpuSnapshot | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
    const busy = user + nice + system + irq + softirq + steal;
    let ours = procTimes('self', true);
    // Every live child counts, tracked or not (the demo's workers are started by the runtime).
    for (const pid of new Set([...childPids(), ...childProcesses()])) ours += procTimes(pid, false);
    return { busy, total: busy + idle + iowait, ours };
  } catch {
    return undefined;
  }
}

// The share of the machine (0-1) that other processes used between two snapshots.
export function foreignShare(a: CpuSnapshot | undefined, b: CpuSnapshot | undefined): number | undefined {
  if (a === undefined || b === undefined || b.total <= a.total) return undefined;
  const foreign = b.busy - a.busy - (b.ours - a.ours);
  return Math.min(1, Math.max(0, foreign / (b.total - a.total)));
}
