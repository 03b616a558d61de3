// A barrier on the kernel's own view: wait until some thread of a process is asleep in futex() on
// an address inside a given segment, i.e. a get() really is waiting, instead of sleeping for a
// guessed 300 ms and hoping. Read from /proc/<pid>/task/<tid>/syscall (the syscall a blocked
// thread is in, with its arguments) and /proc/<pid>/maps (where the segment is mapped).
import { existsSync, readdirSync, readFileSync } from 'node:fs';

import { SHM_DIR } from './segments.js';

const FUTEX_SYSCALL: Readonly<Partial<Record<string, number>>> = { x64: 202, arm64: 98 };

function segmentRanges(pid: number, name: string): Array<[bigint, bigint]> {
  const ranges: Array<[bigint, bigint]> = [];
  let maps: string;
  try {
    maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
  } catch {
    return ranges;
  }
  for (const line of maps.split('\n')) {
    const path = line.slice(line.indexOf('/')).replace(/ \(deleted\)$/, '');
    if (path !== `${SHM_DIR}${name}`) continue;
    const [start, end] = (line.split(' ')[0] ?? '').split('-');
    if (start !== undefined && end !== undefined) ranges.push([BigInt(`0x${start}`), BigInt(`0x${end}`)]);
  }
  return ranges;
}

// True when a thread of `pid` is blocked in futex() on a word inside segment `name` right now.
export function asleepOnSegment(pid: number, name: string): boolean {
  const nr = FUTEX_SYSCALL[process.arch];
  if (nr === undefined || !existsSync(`/proc/${pid}/task`)) return false;
  const ranges = segmentRanges(pid, name);
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let fields: string[];
    try {
      fields = readFileSync(`/proc/${pid}/task/${tid}/syscall`, 'utf8').trim().split(' ');
    } catch {
      continue; // the thread ended
    }
    if (Number(fields[0]) !== nr || fields[1] === undefined) continue;
    const addr = BigInt(fields[1]);
    if (ranges.some(([lo, hi]) => addr >= lo && addr < hi)) return true;
  }
  return false;
}

// Polls (every 2 ms) until `pid` sleeps on a futex in segment `name`. Resolves false after
// `timeoutMs` without throwing: a store that waits some other way (polling, say) still gets tested,
// only without the guarantee that its waiter was asleep when the test went on.
export async function waitUntilAsleep(pid: number, name: string, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (asleepOnSegment(pid, name)) return true;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return false;
}
