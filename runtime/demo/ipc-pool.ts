// The same jobs with Node's own IPC moving the bytes: `n` child processes, each call's arguments
// sent to a free child and its result sent back (child_process with advanced serialisation).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import type * as tasks from './tasks.js';

type TaskName = keyof typeof tasks;
type Fn<K extends TaskName> = (typeof tasks)[K];

interface Reply {
  readonly id: number;
  readonly result: unknown;
}

export class IpcPool {
  private readonly free: ChildProcess[] = [];
  private readonly waiting: Array<() => void> = [];
  private seq = 0;

  private constructor(private readonly children: ChildProcess[]) {}

  static async start(n: number): Promise<IpcPool> {
    const file = fileURLToPath(new URL('./ipc-worker.ts', import.meta.url));
    const children = Array.from({ length: n }, () =>
      fork(file, [], { execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
    // A write to a child that has died fails (EPIPE) as an 'error' event; its 'exit' rejects the call.
    for (const c of children) c.on('error', () => undefined);
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve, reject) => {
            c.once('message', () => resolve());
            c.once('exit', (code) => reject(new Error(`an IPC worker exited while starting (code ${code})`)));
          }),
      ),
    );
    const pool = new IpcPool(children);
    pool.free.push(...children);
    return pool;
  }

  async call<K extends TaskName>(fn: K, ...args: Parameters<Fn<K>>): Promise<ReturnType<Fn<K>>> {
    while (this.free.length === 0) await new Promise<void>((r) => this.waiting.push(r));
    const child = this.free.pop() as ChildProcess;
    this.seq += 1;
    const id = this.seq;
    try {
      return await new Promise<ReturnType<Fn<K>>>((resolve, reject) => {
        const onMessage = (m: Reply): void => {
          if (m.id !== id) return;
          child.off('message', onMessage);
          child.off('exit', onExit);
          resolve(m.result as ReturnType<Fn<K>>);
        };
        const onExit = (): void => reject(new Error('an IPC worker died'));
        child.on('message', onMessage);
        child.once('exit', onExit);
        child.send({ id, fn, args });
      });
    } finally {
      this.free.push(child);
      this.waiting.shift()?.();
    }
  }

  close(): void {
    for (const c of this.children) c.kill('SIGKILL');
  }
}
