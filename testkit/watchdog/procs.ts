// Process helpers for the watchdog and the grader, read from /proc: a process tree, killed whole
// (children the test kit spawns detached, in process groups of their own, included), a process's
// start time (so a recorded pid is never mistaken for a new process that reused it), and what a
// blocked thread is waiting in.
import { existsSync, readFileSync, readdirSync } from 'node:fs';

// The fields of /proc/<pid>/stat after "pid (comm)": comm may hold spaces and parentheses.
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // gone
  }
}

// Every descendant of `root` (not `root` itself).
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields === undefined) continue;
    const ppid = Number(fields[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

// When the process started, in clock ticks since boot (field 22 of /proc/<pid>/stat); undefined
// when it is gone or a zombie.
export function startTime(pid: number): string | undefined {
  const fields = statFields(pid);
  if (fields === undefined || fields[0] === 'Z') return undefined;
  return fields[19];
}

// SIGKILLs `pid`'s process group and every descendant, wherever its group; returns the pids.
export function killTree(pid: number): number[] {
  const all = [pid, ...descendants(pid)];
  for (const target of [-pid, ...all]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return all;
}

// SIGKILLs each recorded process (with its group and descendants) that is still the process that
// was recorded; returns how many of the recorded ones were alive.
export function killRecorded(procs: ReadonlyArray<{ readonly pid: number; readonly start: string }>): number {
  let alive = 0;
  for (const p of procs) {
    if (startTime(p.pid) !== p.start) continue; // exited, or the pid now names another process
    killTree(p.pid);
    alive += 1;
  }
  return alive;
}

// Waits (bounded) until none of `pids` exists any more, zombies included.
export async function waitGone(pids: readonly number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && pids.some((p) => existsSync(`/proc/${p}`))) await sleep(100);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const SYSCALLS: Readonly<Partial<Record<string, Readonly<Record<number, string>>>>> = {
  x64: { 0: 'read', 7: 'poll', 23: 'select', 35: 'nanosleep', 61: 'wait4', 202: 'futex', 230: 'clock_nanosleep', 232: 'epoll_wait', 281: 'epoll_pwait' },
  arm64: { 63: 'read', 73: 'ppoll', 98: 'futex', 101: 'nanosleep', 115: 'clock_nanosleep', 22: 'epoll_pwait', 260: 'wait4' },
};

// Which mapping of `pid` holds `addr`: its path, or undefined.
function mappingOf(pid: number, addr: bigint): string | undefined {
  let maps: string;
  try {
    maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of maps.split('\n')) {
    const [range] = line.split(' ');
    const [lo, hi] = (range ?? '').split('-');
    if (lo === undefined || hi === undefined || lo === '') continue;
    if (addr >= BigInt(`0x${lo}`) && addr < BigInt(`0x${hi}`)) {
      const slash = line.indexOf('/');
      return slash < 0 ? undefined : line.slice(slash).replace(/ \(deleted\)$/, '');
    }
  }
  return undefined;
}

// What the main thread of `pid` is doing, in words: the system call it is blocked in (a futex on a
// word in a shared memory segment names the segment), or that it is running. Undefined when /proc
// cannot tell (another OS, the process is gone).
export function describeBlocked(pid: number): string | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/task/${pid}/syscall`, 'utf8').trim();
  } catch {
    return undefined;
  }
  if (text === 'running') return 'running on the CPU, never returning (a busy loop?)';
  const [nrText, arg0] = text.split(' ');
  const nr = Number(nrText);
  if (nr === -1) return 'running on the CPU, never returning (a busy loop?)';
  const name = SYSCALLS[process.arch]?.[nr] ?? `system call ${nr}`;
  if (name === 'futex' && arg0 !== undefined) {
    const where = mappingOf(pid, BigInt(arg0));
    return where?.startsWith('/dev/shm/') === true
      ? `asleep in futex() on a word inside the shared memory segment ${where.slice('/dev/shm'.length)}: a lock or a wait without a deadline`
      : 'asleep in futex(): waiting for a lock or a condition';
  }
  return `blocked in ${name}()`;
}
