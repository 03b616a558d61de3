// Child processes for multi-process tests: real `node` processes, spawned detached (their own
// process group, killed as a group), talking to the test over IPC. Every wait has a timeout.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { MiniRayError, ERROR_CODES, type ErrorCode } from '../lib/errors.js';
import { REPO_ROOT } from '../lib/phases.js';
import type { ChildMessage, Fixture, ParentMessage } from './protocol.js';
import { noteChild } from './watchdog/shared.js';

const CHILD_MAIN = fileURLToPath(new URL('./child-main.ts', import.meta.url));
export const DEFAULT_WAIT_MS = 15_000;

// A typed handle on a fixture module: `fixtures<typeof import('./fx.js')>(new URL('./fx.ts', import.meta.url))`.
export interface FixtureModule<M> {
  readonly url: string;
  readonly __module?: M;
}
export function fixtures<M>(url: URL): FixtureModule<M> {
  return { url: url.href };
}

type ArgsOf<F> = F extends Fixture<infer A, unknown> ? A : never;
type ResultOf<F> = F extends (...args: never[]) => infer R ? Awaited<R> : never;

export class ChildExitedError extends Error {}

export class Child {
  readonly pid: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly events = new Map<string, unknown[]>();
  private readonly eventWaiters = new Map<string, Array<(data: unknown) => void>>();
  private output = '';
  private done = false;

  constructor(private readonly proc: ChildProcess, readonly label: string) {
    if (proc.pid === undefined) throw new Error(`child ${label} did not start`);
    this.pid = proc.pid;
    proc.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    proc.on('message', (msg: ChildMessage) => this.onMessage(msg));
    this.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        this.done = true;
        const err = new ChildExitedError(
          `child ${label} (pid ${this.pid}) exited (code ${code}, signal ${signal})${this.tail()}`,
        );
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
        resolve({ code, signal });
      });
    });
  }

  get alive(): boolean {
    return !this.done;
  }

  // The child's stdout and stderr so far, for failure messages.
  get log(): string {
    return this.output;
  }

  private tail(): string {
    const t = this.output.trim();
    return t === '' ? '' : `; its output:\n${t.split('\n').slice(-20).join('\n')}`;
  }

  private onMessage(msg: ChildMessage): void {
    if (msg.type === 'event') {
      const waiter = this.eventWaiters.get(msg.name)?.shift();
      if (waiter !== undefined) waiter(msg.data);
      else this.events.set(msg.name, [...(this.events.get(msg.name) ?? []), msg.data]);
    } else if (msg.type === 'result' || msg.type === 'error') {
      const p = this.pending.get(msg.seq);
      if (p === undefined) return;
      this.pending.delete(msg.seq);
      if (msg.type === 'result') p.resolve(msg.value);
      else {
        const code = msg.error.code;
        const err =
          code !== undefined && (ERROR_CODES as readonly string[]).includes(code)
            ? new MiniRayError(code as ErrorCode, msg.error.message)
            : new Error(`in child ${this.label}: ${msg.error.message}`);
        if (msg.error.stack !== undefined) err.stack = `${err.message}\n[child ${this.pid}] ${msg.error.stack}`;
        p.reject(err);
      }
    }
  }

  // Runs fixture `fn` of module `mod` in the child; rejects on its error, its death or a timeout.
  run<M, K extends keyof M & string>(
    mod: FixtureModule<M>,
    fn: K,
    args: ArgsOf<M[K]>,
    timeoutMs: number = DEFAULT_WAIT_MS,
  ): Promise<ResultOf<M[K]>> {
    if (this.done) return Promise.reject(new ChildExitedError(`child ${this.label} has exited`));
    this.seq += 1;
    const seq = this.seq;
    const msg: ParentMessage = { type: 'call', seq, module: mod.url, fn, args };
    return new Promise<ResultOf<M[K]>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new Error(`child ${this.label}: ${fn} did not finish within ${timeoutMs} ms${this.tail()}`));
      }, timeoutMs);
      this.pending.set(seq, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as ResultOf<M[K]>);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.proc.send(msg);
    });
  }

  // Waits for an event the child emitted (ctx.emit), including one emitted before this call.
  waitEvent(name: string, timeoutMs: number = DEFAULT_WAIT_MS): Promise<unknown> {
    const queued = this.events.get(name);
    if (queued !== undefined && queued.length > 0) return Promise.resolve(queued.shift());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`child ${this.label}: no '${name}' event within ${timeoutMs} ms${this.tail()}`)),
        timeoutMs,
      );
      void this.exited.then(() => {
        clearTimeout(timer);
        reject(new ChildExitedError(`child ${this.label} exited before emitting '${name}'${this.tail()}`));
      });
      const list = this.eventWaiters.get(name) ?? [];
      list.push((data) => {
        clearTimeout(timer);
        resolve(data);
      });
      this.eventWaiters.set(name, list);
    });
  }

  signal(name: string, data?: unknown): void {
    if (this.done) return;
    const msg: ParentMessage = { type: 'signal', name, data };
    this.proc.send(msg);
  }

  // Kills the child's whole process group (default SIGKILL) and waits until it is gone.
  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs: number = DEFAULT_WAIT_MS): Promise<void> {
    if (!this.done) {
      try {
        process.kill(-this.pid, signal);
      } catch {
        // already gone
      }
    }
    await withTimeout(this.exited, timeoutMs, `child ${this.label} did not exit after ${signal}`);
  }
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} (timed out after ${ms} ms)`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const live = new Set<Child>();

export interface SpawnOptions {
  readonly label?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

// Starts a child and waits until it is ready to run fixtures.
export async function spawnChild(options: SpawnOptions = {}): Promise<Child> {
  const proc = fork(CHILD_MAIN, [], {
    cwd: REPO_ROOT,
    execArgv: ['--import', 'tsx'],
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
    env: { ...process.env, ...options.env },
  });
  const child = new Child(proc, options.label ?? `#${live.size + 1}`);
  noteChild(child.pid);
  live.add(child);
  void child.exited.then(() => live.delete(child));
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      const onMsg = (m: ChildMessage): void => {
        if (m.type === 'ready') {
          proc.off('message', onMsg);
          resolve();
        }
      };
      proc.on('message', onMsg);
      void child.exited.then(() => reject(new ChildExitedError(`child ${child.label} died while starting:\n${child.log}`)));
    }),
    options.timeoutMs ?? DEFAULT_WAIT_MS,
    `child ${child.label} did not start`,
  );
  return child;
}

export async function spawnChildren(n: number, options: SpawnOptions = {}): Promise<Child[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => spawnChild({ ...options, label: `${options.label ?? 'child'}-${i + 1}` })));
}

// A barrier: waits until every child emitted `arrive`, then signals `release` to all at once.
export async function barrier(children: readonly Child[], arrive = 'ready', release = 'go', timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
  await Promise.all(children.map((c) => c.waitEvent(arrive, timeoutMs)));
  for (const c of children) c.signal(release);
}

// Kills every child still alive (used by the sandbox's afterEach).
export async function killAllChildren(): Promise<void> {
  await Promise.all([...live].map((c) => c.kill('SIGKILL').catch(() => undefined)));
}

export const fixtureUrl = (path: string): string => pathToFileURL(path).href;
