// Running a process that is to die at a named crash point (native-common/include/miniray/crash_point.h):
// list the points an operation passes (MINIRAY_CRASH_LOG), then arm each at every passage in turn
// (MINIRAY_CRASH_AT=name:k, k = 1, 2, ...) and check that the process died there, by SIGKILL.
// Phases 3 and 4 use it (a fresh process a trial, started from plain JavaScript); phases 1 and 2
// fork trials from their fault-injection build instead (testkit/crash-points.ts).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
}

const running = new Set<number>();

// Runs `node script ...args` in its own process group; kills the group after `timeoutMs`.
export function runNode(script: string, args: readonly string[], env: Readonly<Record<string, string>>, timeoutMs = 20_000): Promise<ChildExit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      env: { ...process.env, ...env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    if (child.pid !== undefined) running.add(child.pid);
    const timer = setTimeout(() => {
      killGroup(child.pid);
      reject(new Error(`${script} ${args.join(' ')} did not exit within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (child.pid !== undefined) running.delete(child.pid);
      resolve({ code, signal, output });
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

// Kills every process runNode started that is still running (for afterEach).
export function killRunning(): void {
  for (const pid of running) killGroup(pid);
  running.clear();
}

// The crash points a run of `script args` passes, in the order it first passes them.
export async function crashPointsOf(script: string, args: readonly string[]): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'miniray-crash-log-'));
  try {
    const log = join(dir, 'points');
    const exit = await runNode(script, args, { MINIRAY_CRASH_LOG: log });
    if (exit.code !== 0) throw new Error(`${script} ${args.join(' ')} failed (code ${exit.code}, signal ${exit.signal}):\n${exit.output}`);
    let text = '';
    try {
      text = readFileSync(log, 'utf8');
    } catch {
      // no point passed
    }
    return text.split('\n').filter((l) => l !== '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Runs `script args` with the `passage`-th passage of `point` armed; resolves once the process has
// exited, and says how.
export function crashAt(script: string, args: readonly string[], point: string, passage = 1): Promise<ChildExit> {
  return runNode(script, args, { MINIRAY_CRASH_AT: `${point}:${passage}` });
}

// One kill of an operation at one passage of one point: a fresh state, the child armed, then the
// checks of what the dead child left.
export interface PassageTrial<S> {
  prepare(): S | Promise<S>;
  // The child's arguments for this state.
  args(state: S): readonly string[];
  // After the child died at `passage` of the point (exit.signal is SIGKILL).
  check(state: S, passage: number, exit: ChildExit): void | Promise<void>;
  dispose(state: S): void;
}

export interface PassageCoverage {
  readonly killed: number; // passages killed at
  readonly passages: number; // how often the operation passes the point
}

// How many passages of one point are killed at in a row: unset, 120 (as testkit/crash-points.ts).
// `npm run verify` sets MINIRAY_CRASH_SAMPLE (12): a trial here is a whole process, about a hundred
// times a forked trial of phases 1 and 2, so verify kills at the first 4 at most, and the last. The operations of phases 3 and 4 pass most points
// once; a journal's points once a record (25 times in a put that evicts).
export function maxPassagesFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const k = Number(env['MINIRAY_CRASH_SAMPLE'] ?? '');
  return Number.isInteger(k) && k >= 1 ? Math.min(k, 4) : 120;
}

// A point passed more often than this is a loop that never ends.
const MAX_PASSAGES_EVER = 1 << 20;

// Kills `script` at passages 1, 2, ... of `point`, each time on a fresh state, and checks what each
// death left, until a run passes the point fewer times than armed (it completes, exit code 0). A
// point passed more than `maxPassages` times is then killed at its last passage too, found by
// doubling and bisection (each probe that kills is checked like the others).
export async function killAtEachPassage<S>(
  script: string,
  point: string,
  trial: PassageTrial<S>,
  maxPassages = maxPassagesFromEnv(),
): Promise<PassageCoverage> {
  let killed = 0;
  // Whether the child armed at passage k died there (and was checked) or completed.
  const diesAt = async (k: number): Promise<boolean> => {
    const state = await trial.prepare();
    try {
      const exit = await crashAt(script, trial.args(state), point, k);
      if (exit.signal === 'SIGKILL') {
        await trial.check(state, k, exit);
        killed += 1;
        return true;
      }
      // Not killed: the operation passes the point fewer than k times, and must have completed.
      if (k === 1 || exit.code !== 0) {
        throw new Error(`${point}: the child armed at passage ${k} exited (code ${exit.code}, signal ${exit.signal}) instead of dying there:\n${exit.output}`);
      }
      return false;
    } finally {
      trial.dispose(state);
    }
  };
  for (let k = 1; k <= maxPassages; k += 1) if (!(await diesAt(k))) return { killed, passages: k - 1 };
  let last = maxPassages; // dies at `last`, completes at `beyond`
  let beyond = maxPassages * 2;
  while (await diesAt(beyond)) {
    last = beyond;
    beyond *= 2;
    if (beyond > MAX_PASSAGES_EVER) throw new Error(`${point}: passed more than ${MAX_PASSAGES_EVER} times`);
  }
  while (beyond - last > 1) {
    const mid = Math.floor((last + beyond) / 2);
    if (await diesAt(mid)) last = mid;
    else beyond = mid;
  }
  return { killed, passages: last };
}
