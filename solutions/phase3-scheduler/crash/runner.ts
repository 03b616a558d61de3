// Running a process that is to die at a named crash point (native-common/include/miniray/crash_point.h):
// list the points an operation passes (MINIRAY_CRASH_LOG), then arm each (MINIRAY_CRASH_AT=name:1)
// and check that the process died there, by SIGKILL.
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

// Runs `script args` with `point` armed; resolves once the process is dead, and says how it died.
export function crashAt(script: string, args: readonly string[], point: string): Promise<ChildExit> {
  return runNode(script, args, { MINIRAY_CRASH_AT: `${point}:1` });
}
