// Runs a function of a TypeScript module in a worker_thread (a second JavaScript environment in the
// same process): `await runInWorker(url, 'fn', args)`. Addons must keep their per-environment state
// apart, so tests load them in workers, let the workers exit, and keep using them elsewhere.
import { Worker } from 'node:worker_threads';

// Node 20 does not apply --import hooks to a worker's entry point, so the worker registers tsx
// itself before importing the module.
const TSX_API = import.meta.resolve('tsx/esm/api');

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { register } = await import(workerData.tsx);
  register();
  const mod = await import(workerData.url);
  return mod[workerData.fn](workerData.args);
})().then(
  (value) => parentPort.postMessage({ ok: true, value }),
  (e) => parentPort.postMessage({ ok: false, error: String((e && e.stack) || e) }),
);
`;

type WorkerReply = { ok: true; value: unknown } | { ok: false; error: string };

export interface WorkerRunOptions {
  readonly timeoutMs?: number;
  // Terminate the worker as soon as it has sent its result (as a program may, with work still
  // pending in it), instead of letting it exit by itself.
  readonly terminate?: boolean;
}

// Resolves with the function's result once the worker has exited; rejects on its error, on a
// non-zero exit (unless terminated on purpose) or after the timeout (default 20 s).
export function runInWorker<T>(moduleUrl: string, fn: string, args: unknown, options: WorkerRunOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  return new Promise<T>((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { tsx: TSX_API, url: moduleUrl, fn, args },
    });
    let reply: WorkerReply | undefined;
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`worker running ${fn} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    worker.on('message', (m: WorkerReply) => {
      reply = m;
      // Otherwise the worker exits by itself: either way its environment (and every addon instance
      // in it) is torn down, which is what the caller wants to survive.
      if (options.terminate === true) void worker.terminate();
    });
    worker.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    worker.on('exit', (code) => {
      clearTimeout(timer);
      if (reply === undefined) reject(new Error(`worker running ${fn} exited (code ${code}) without a result`));
      else if (!reply.ok) reject(new Error(`in a worker thread: ${reply.error}`));
      else resolve(reply.value as T);
    });
  });
}
