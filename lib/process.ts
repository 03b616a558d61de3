// Small process helpers shared by the build lock, the test kit, the benchmarks and the debugger.
import { readFileSync, readdirSync } from 'node:fs';

// True when a process with this pid exists (EPERM: it exists but belongs to someone else).
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// The live children of `parent` (zombies left out), read from /proc.
export function childProcesses(parent: number = process.pid): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command (which may hold spaces and parentheses) start at the last ')'.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === parent && state !== 'Z') pids.push(Number(entry));
    } catch {
      // it exited while we looked
    }
  }
  return pids;
}
