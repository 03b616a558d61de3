// Child processes of the benchmark: the IPC echo peer and the second reader of a segment.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { MiniRayError } from '../../lib/errors.js';
import { REPO_ROOT } from '../../lib/phases.js';
import { trackChild } from './cleanup.js';
import { meter, testBytes, type ChildOpenRequest, type ChildReply, type ChildRequest, type MeterSet } from './context.js';
import { measureAsync } from './harness.js';
import { fmtBytes } from './report.js';

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

// One message at a time: the next reply (or the child's death) settles the pending promise.
class Peer {
  private pending: { resolve: (m: unknown) => void; reject: (e: Error) => void } | undefined;
  private exited: Error | undefined;

  constructor(readonly child: ChildProcess) {
    child.on('message', (m) => {
      const p = this.pending;
      this.pending = undefined;
      p?.resolve(m);
    });
    child.once('exit', (code, signal) => {
      this.exited = new Error(`benchmark child exited (${code ?? signal ?? '?'})`);
      const p = this.pending;
      this.pending = undefined;
      p?.reject(this.exited);
    });
  }

  static async start(mode: 'echo' | 'meters' | 'serve', env: NodeJS.ProcessEnv): Promise<Peer> {
    const child = trackChild(
      fork(CHILD, [mode], {
        cwd: REPO_ROOT,
        execArgv: ['--import', 'tsx'],
        serialization: 'advanced',
        env,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    const peer = new Peer(child);
    const hello = await peer.next(30_000);
    if (hello !== 'ready') throw new Error(`benchmark child said ${String(hello)} instead of ready`);
    return peer;
  }

  next(timeoutMs: number): Promise<unknown> {
    if (this.exited !== undefined) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        reject(new Error(`benchmark child did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending = {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  request(message: unknown, timeoutMs: number): Promise<unknown> {
    const reply = this.next(timeoutMs);
    this.child.send(message as Parameters<ChildProcess['send']>[0]);
    return reply;
  }

  stop(): void {
    if (this.child.connected) this.child.disconnect();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

// Node's own IPC: child_process.fork with serialization 'advanced' (structured clone), the same
// bytes sent to a child and sent back. One sample is one round trip. The child lives for the run.
export async function ipcMeters(sizes: readonly number[]): Promise<MeterSet> {
  const peer = await Peer.start('echo', process.env);
  const meters = sizes.map((bytes) => {
    const payload = testBytes(bytes);
    let checked = false;
    return meter('baseline', 'ipc_roundtrip', bytes, true, async (budget) => {
      if (!checked) {
        const back = await peer.request(payload, 60_000);
        if (!(back instanceof Uint8Array) || Buffer.compare(Buffer.from(back.buffer, back.byteOffset, back.byteLength), payload) !== 0) {
          throw new Error(`IPC echo of ${fmtBytes(bytes)} came back different`);
        }
        checked = true;
      }
      return measureAsync(
        `ipc ${bytes}`,
        async () => {
          await peer.request(payload, 60_000);
        },
        budget,
      );
    });
  });
  return { meters, close: async () => peer.stop() };
}

async function ask(peer: Peer, request: ChildRequest, timeoutMs: number): Promise<ChildReply> {
  const reply = (await peer.request(request, timeoutMs)) as ChildReply;
  if (reply.kind === 'error') {
    const message = `second process: ${reply.message}`;
    throw reply.code === undefined ? new Error(message) : new MiniRayError(reply.code, message);
  }
  return reply;
}

// Forks a second process that opens the segment; its meters are measured there, round by round.
export async function otherProcessMeters(request: ChildOpenRequest): Promise<MeterSet> {
  const peer = await Peer.start('meters', process.env);
  try {
    const opened = await ask(peer, request, 10 * 60_000);
    if (opened.kind !== 'opened') throw new Error(`second process answered ${opened.kind} to open`);
    const meters = opened.meters.map((m, index) =>
      meter(request.phase, m.op, m.bytes, false, async (budget) => {
        const reply = await ask(peer, { kind: 'measure', index, budget }, 10 * 60_000);
        if (reply.kind !== 'stats') throw new Error(`second process answered ${reply.kind} to measure`);
        return reply.stats;
      }),
    );
    return {
      meters,
      close: async () => {
        try {
          await ask(peer, { kind: 'close' }, 60_000);
        } finally {
          peer.stop();
        }
      },
    };
  } catch (e) {
    peer.stop();
    throw e;
  }
}

// Forks a second process that runs the phase's serve() (phase 3: a worker) until it returns.
export async function serveInOtherProcess(request: ChildOpenRequest): Promise<void> {
  const peer = await Peer.start('serve', process.env);
  try {
    await ask(peer, request, 24 * 3600_000);
  } finally {
    peer.stop();
  }
}
