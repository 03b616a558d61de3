// The program every test child runs: it imports fixture modules on request and runs their
// functions, reporting results, errors and events back to the parent over the IPC channel.
import type { ChildMessage, FixtureContext, ParentMessage, SerializedError } from './protocol.js';

const send = (msg: ChildMessage): Promise<void> =>
  new Promise((resolve) => {
    if (process.send === undefined) resolve();
    else process.send(msg, undefined, {}, () => resolve());
  });

const signals = new Map<string, unknown[]>();
const waiters = new Map<string, Array<(data: unknown) => void>>();

const ctx: FixtureContext = {
  emit(name, data) {
    return send({ type: 'event', name, data });
  },
  waitFor(name, timeoutMs) {
    const queued = signals.get(name);
    if (queued !== undefined && queued.length > 0) return Promise.resolve(queued.shift());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`child ${process.pid}: no '${name}' signal within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const list = waiters.get(name) ?? [];
      list.push((data) => {
        clearTimeout(timer);
        resolve(data);
      });
      waiters.set(name, list);
    });
  },
};

function serialize(e: unknown): SerializedError {
  if (e instanceof Error) {
    const code = (e as Error & { code?: unknown }).code;
    return {
      name: e.name,
      message: e.message,
      ...(typeof code === 'string' ? { code } : {}),
      ...(e.stack !== undefined ? { stack: e.stack } : {}),
    };
  }
  return { name: 'Error', message: String(e) };
}

process.on('message', (raw: ParentMessage) => {
  if (raw.type === 'signal') {
    const list = waiters.get(raw.name);
    const waiter = list?.shift();
    if (waiter !== undefined) waiter(raw.data);
    else signals.set(raw.name, [...(signals.get(raw.name) ?? []), raw.data]);
    return;
  }
  void (async () => {
    try {
      const mod = (await import(raw.module)) as Record<string, unknown>;
      const fn = mod[raw.fn];
      if (typeof fn !== 'function') throw new Error(`${raw.module} has no function ${raw.fn}`);
      const value: unknown = await (fn as (a: unknown, c: FixtureContext) => unknown)(raw.args, ctx);
      void send({ type: 'result', seq: raw.seq, value });
    } catch (e) {
      void send({ type: 'error', seq: raw.seq, error: serialize(e) });
    }
  })();
});

// The parent going away (a killed test worker) must not leave this child running.
process.on('disconnect', () => process.exit(0));
void send({ type: 'ready' });
