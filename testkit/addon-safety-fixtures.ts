// Child-process (and worker-thread) code for testkit/addon-safety.ts: what a phase's given glue must
// survive, run where a crash can be observed without taking the test runner down with it.
//
// Every function takes the URL of the phase's adapter module, whose default export is a StoreAdapter:
// the few operations these scenarios need, in the phase's own terms.
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import type { Fixture } from './protocol.js';
import { runInWorker } from './workers.js';

export interface AdaptedStore {
  put(data: Uint8Array): string; // returns the new object's id
  get(id: string): Buffer;
  close(): void;
  lock(): void;
  unlock(): void;
  // The Float64Array the harness reads locations from (the glue's scratch(), an internal of lib/views.ts).
  scratch(): Float64Array;
}

// What the phases' harnesses have in common, as far as these scenarios are concerned.
export interface HarnessStore {
  put(data: Uint8Array): string;
  get(id: never): Buffer;
  close(): void;
  readonly debug: { lock(): void; unlock(): void };
}

// A harness store in the terms of AdaptedStore.
export function adaptStore(store: HarnessStore): AdaptedStore {
  return {
    put: (data) => store.put(data),
    get: (id) => store.get(id as never),
    close: () => store.close(),
    lock: () => store.debug.lock(),
    unlock: () => store.debug.unlock(),
    scratch: () => (store as unknown as { views: { scratch: Float64Array } }).views.scratch,
  };
}

export interface StoreAdapter {
  create(name: string, capacity: number, lockTimeoutMs?: number): AdaptedStore;
  open(name: string, lockTimeoutMs?: number): AdaptedStore;
  unlink(name: string): void;
  // Capacities this runtime cannot hand to JavaScript as one ArrayBuffer, given its largest
  // (buffer.constants.MAX_LENGTH): each must be refused with ERR_INVALID_ARGUMENT.
  oversized(maxLength: number): number[];
}

const adapters = new Map<string, StoreAdapter>();
async function load(url: string): Promise<StoreAdapter> {
  let a = adapters.get(url);
  if (a === undefined) {
    a = ((await import(url)) as { default: StoreAdapter }).default;
    adapters.set(url, a);
  }
  return a;
}

let gcFn: (() => void) | undefined;
// A full garbage collection, then a turn of the event loop (finalizers of external memory run in
// an immediate), twice.
export async function collect(): Promise<void> {
  if (gcFn === undefined) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  for (let i = 0; i < 2; i += 1) {
    gcFn();
    await new Promise((r) => setImmediate(r));
  }
}

const codeOf = (e: unknown): string => {
  const c = (e as { code?: unknown }).code;
  return typeof c === 'string' ? c : `no code: ${String(e)}`;
};

// Tries to create a store of each oversized capacity, then uses an ordinary store (`after`): returns
// the error code of each attempt ('ok' if one was created, which it must not be) and what the
// ordinary store read back.
export const hugeCapacities: Fixture<
  { adapter: string; names: readonly string[]; after: string },
  { refused: Array<{ capacity: number; code: string }>; after: string }
> = async ({ adapter, names, after }) => {
  const a = await load(adapter);
  const max = (await import('node:buffer')).constants.MAX_LENGTH;
  const refused = a.oversized(max).map((capacity, i) => {
    try {
      a.create(names[i] ?? 'missing-name', capacity).close();
      return { capacity, code: 'ok' };
    } catch (e) {
      return { capacity, code: codeOf(e) };
    }
  });
  return { refused, after: await storeLife({ adapter, name: after }) };
};

// Arguments at the edges of what a double can say about a 64-bit integer, each refused with a
// typed error (2^63 does not fit an int64_t: converting it is undefined behaviour).
// Then uses an ordinary store, as hugeCapacities does.
export const hugeArguments: Fixture<
  { adapter: string; name: string; after: string },
  { refused: Array<{ what: string; code: string }>; after: string }
> = async ({ adapter, name, after }) => {
  const a = await load(adapter);
  const out: Array<{ what: string; code: string }> = [];
  for (const v of [2 ** 63, 2 ** 64, -(2 ** 63), Number.MAX_VALUE]) {
    for (const [what, fn] of [
      [`capacity ${v}`, () => a.create(name, v).close()],
      [`lockTimeoutMs ${v}`, () => a.create(name, 4096, v).close()],
    ] as const) {
      try {
        fn();
        out.push({ what, code: 'ok' });
        a.unlink(name);
      } catch (e) {
        out.push({ what, code: codeOf(e) });
      }
    }
  }
  return { refused: out, after: await storeLife({ adapter, name: after }) };
};

// One store's whole life, in whatever environment runs it (a worker thread, or the main one).
export async function storeLife({ adapter, name }: { adapter: string; name: string }): Promise<string> {
  const a = await load(adapter);
  const store = a.create(name, 1 << 16);
  try {
    const text = `hello from ${name}`;
    const back = store.get(store.put(Buffer.from(text))).toString();
    if (back !== text) throw new Error(`read back '${back}'`);
    return back;
  } finally {
    store.close();
    a.unlink(name);
  }
}

// Loads the addon here, then in worker threads (one after another, then `parallel` at once) that
// each use a store and exit, then uses the addon here again. Returns what the last use read.
export const workerThreads: Fixture<{ adapter: string; names: readonly string[]; parallel: number }, string> = async ({
  adapter,
  names,
  parallel,
}) => {
  const self = new URL(import.meta.url).href;
  const [first, second, ...rest] = names;
  if (first === undefined || second === undefined || rest.length < parallel + 1) throw new Error('not enough names');
  await storeLife({ adapter, name: first });
  await runInWorker(self, 'storeLife', { adapter, name: second });
  await collect();
  await Promise.all(rest.slice(0, parallel).map((name) => runInWorker(self, 'storeLife', { adapter, name })));
  await collect();
  return storeLife({ adapter, name: rest[parallel] as string });
};

// Locks a store, closes the handle without unlocking, lets the garbage collector take everything,
// then uses another store (whose lock goes on this thread's robust list next to the first) and
// finally the first segment again, from a fresh handle with a short lock timeout.
export const closeWhileLocked: Fixture<{ adapter: string; name: string; other: string }, string> = async ({ adapter, name, other }) => {
  const a = await load(adapter);
  (() => {
    const s = a.open(name);
    s.lock();
    s.close();
  })();
  await collect();
  await storeLife({ adapter, name: other });
  const again = a.open(name, 500);
  try {
    again.lock();
    again.unlock();
    return again.get(again.put(Buffer.from('after'))).toString();
  } finally {
    again.close();
  }
};

// Which of the segments `names` this process still maps, from /proc/self/maps: [name, bytes].
export function mappedSegments(names: readonly string[]): Map<string, number> {
  const wanted = new Set(names);
  const out = new Map<string, number>();
  for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s+\/dev\/shm(\/\S+)/.exec(line);
    if (m === null || !wanted.has(m[3] ?? '')) continue;
    const bytes = Number(BigInt(`0x${m[2]}`) - BigInt(`0x${m[1]}`));
    out.set(m[3] ?? '', (out.get(m[3] ?? '') ?? 0) + bytes);
  }
  return out;
}

export interface MemoryRound {
  readonly mappedSegments: number; // of this run's segments, still mapped after the round
  readonly mappedBytes: number;
  readonly rssBytes: number;
}

// For each name: create a store of `capacity` bytes, put `objectBytes`, read it back through a view
// (unless `noView`), close, unlink, and give the event loop one turn (no forced collection). The
// closed handles are kept (a program may well keep them, e.g. in a map); the views are dropped.
// Returns how much of these segments this process still maps after each round.
export const memoryRounds: Fixture<
  { adapter: string; names: readonly string[]; capacity: number; objectBytes: number; noView: boolean },
  MemoryRound[]
> = async ({ adapter, names, capacity, objectBytes, noView }) => {
  const a = await load(adapter);
  const out: MemoryRound[] = [];
  const closed: AdaptedStore[] = [];
  for (const name of names) {
    const store = a.create(name, capacity);
    (() => {
      const id = store.put(Buffer.alloc(objectBytes, 7));
      if (!noView && store.get(id).reduce((x, y) => x + y, 0) !== 7 * objectBytes) throw new Error('bad bytes');
    })();
    store.close();
    a.unlink(name);
    closed.push(store);
    await new Promise((r) => setImmediate(r));
    const mapped = mappedSegments(names);
    out.push({
      mappedSegments: mapped.size,
      mappedBytes: [...mapped.values()].reduce((x, y) => x + y, 0),
      rssBytes: process.memoryUsage().rss,
    });
  }
  return out;
};

// Gets an object (which binds the harness's scratch array), transfers that array's buffer away (it
// is detached here and its memory freed with the clone), collects, and gets again.
export const transferredScratch: Fixture<{ adapter: string; name: string }, { code: string; value: string }> = async ({ adapter, name }) => {
  const a = await load(adapter);
  const store = a.create(name, 1 << 16);
  try {
    const id = store.put(Buffer.from('scratch'));
    store.get(id);
    const scratch = store.scratch();
    structuredClone(scratch.buffer, { transfer: [scratch.buffer] });
    await collect();
    try {
      return { code: 'ok', value: store.get(id).toString() };
    } catch (e) {
      return { code: codeOf(e), value: '' };
    }
  } finally {
    store.close();
  }
};
