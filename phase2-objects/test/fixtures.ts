// Code that runs inside child processes during phase-2 tests (see testkit/children.ts).
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

import type { ErrorCode } from '../../lib/errors.js';
import { patternBytes, sha1 } from '../../testkit/data.js';
import type { Fixture } from '../../testkit/protocol.js';
import { MiniRayError, ObjectStore, randomObjectId, type ObjectId } from '../index.js';

export { patternBytes, sha1 };

// `n` random ids whose probe paths all start at slot `bucket` of a `tableSize`-slot table.
export function collidingIds(n: number, tableSize: number, bucket = 0): ObjectId[] {
  const out: ObjectId[] = [];
  while (out.length < n) {
    const id = randomObjectId();
    if (ObjectStore.bucketOf(id, tableSize) === bucket) out.push(id);
  }
  return out;
}


// A self-checking object: [seed u32][size u32][pattern(seed)...]; any process can verify it.
export const MIN_CHECKED_SIZE = 8;
export function checkedObject(seed: number, size: number): Buffer {
  const n = Math.max(size, MIN_CHECKED_SIZE);
  const out = patternBytes(seed, n);
  out.writeUInt32LE(seed >>> 0, 0);
  out.writeUInt32LE(n, 4);
  return out;
}
export function verifyChecked(view: Uint8Array): boolean {
  if (view.length < MIN_CHECKED_SIZE) return false;
  const buf = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  const seed = buf.readUInt32LE(0);
  if (buf.readUInt32LE(4) !== view.length) return false;
  return checkedObject(seed, view.length).equals(buf);
}

// The error code of whatever `fn` throws ('ok' when it does not throw).
export function outcome(fn: () => unknown): ErrorCode | 'ok' | `non-MiniRay: ${string}` {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof MiniRayError) return e.code;
    return `non-MiniRay: ${(e as Error).message}`;
  }
}


export interface WaitResult {
  readonly outcome: ErrorCode | 'ok';
  readonly sha1?: string;
  readonly elapsedMs: number;
  readonly ticks: number; // async: timer ticks seen while the get was pending (0 for sync)
}

// Waits in get() (sync or Promise) for `id`, telling the parent 'waiting' once the get is under
// way. For the Promise form, 'waiting' comes only after the event loop has turned a few times
// while the get was pending: the proof that it does not block the loop.
export const waitGet: Fixture<
  { name: string; id: ObjectId; timeoutMs: number; mode: 'sync' | 'async'; release?: boolean },
  WaitResult
> = async ({ name, id, timeoutMs, mode, release }, ctx) => {
  const store = ObjectStore.open(name, { lockTimeoutMs: 10_000 });
  let ticks = 0;
  const t0 = Date.now();
  try {
    let view: Buffer;
    if (mode === 'sync') {
      // The message must leave before a sync get blocks this process's event loop.
      await ctx.emit('waiting');
      view = store.get(id, { timeoutMs });
    } else {
      const pending = store.getAsync(id, { timeoutMs });
      let settled = false;
      pending.then(
        () => (settled = true),
        () => (settled = true),
      );
      while (ticks < 3 && !settled) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        ticks += 1;
      }
      await ctx.emit('waiting');
      view = await pending;
    }
    const result: WaitResult = { outcome: 'ok', sha1: sha1(view), elapsedMs: Date.now() - t0, ticks };
    if (release === true) store.release(id);
    return result;
  } catch (e) {
    if (!(e instanceof MiniRayError)) throw e;
    return { outcome: e.code, elapsedMs: Date.now() - t0, ticks };
  } finally {
    store.close();
  }
};

// Creates, fills and seals an object (in this process).
// With holdOpen, it says 'sealed' and keeps the store open until told 'close' (close() wakes
// waiters too, so a test of seal's own wake-up must not close right after sealing).
export const putObject: Fixture<
  { name: string; id: ObjectId; seed: number; size: number; holdOpen?: boolean },
  string
> = async ({ name, id, seed, size, holdOpen }, ctx) => {
  const store = ObjectStore.open(name);
  const data = patternBytes(seed, size);
  store.put(data, id);
  if (holdOpen === true) {
    ctx.emit('sealed', sha1(data));
    await ctx.waitFor('close', 20_000);
  }
  store.close();
  return sha1(data);
};

// Pins `id`, says 'pinned', waits for 'release', releases (or closes without releasing).
export const pinAndHold: Fixture<{ name: string; id: ObjectId; closeInstead?: boolean }, void> = async (
  { name, id, closeInstead },
  ctx,
) => {
  const store = ObjectStore.open(name);
  store.get(id);
  ctx.emit('pinned');
  await ctx.waitFor('release', 20_000);
  if (closeInstead !== true) store.release(id);
  store.close();
};

// Runs one operation on `id` in this process and returns its outcome.
export const tryOp: Fixture<
  { name: string; id: ObjectId; op: 'delete' | 'contains' | 'release' | 'get' | 'seal' | 'abort' },
  string
> = ({ name, id, op }) => {
  const store = ObjectStore.open(name);
  try {
    if (op === 'contains') return String(store.contains(id));
    return outcome(() => {
      if (op === 'delete') store.delete(id);
      else if (op === 'release') store.release(id);
      else if (op === 'seal') store.seal(id);
      else if (op === 'abort') store.abort(id);
      else {
        store.get(id);
        store.release(id);
      }
    });
  } finally {
    store.close();
  }
};

export interface ChurnReport {
  readonly ops: number;
  readonly live: ObjectId[]; // this child's objects still in the store at the end
  readonly failures: string[]; // anything that should not have happened
  readonly othersRead: number; // objects of other children read and verified
}

// Mixed operations on one store: put (self-checking contents), get + verify + release of its own
// and other children's objects, delete of its own. Ids are derived from (child, n), so a child can
// guess another's ids; whatever it finds must verify.
export const churn: Fixture<
  { name: string; child: number; children: number; ops: number; maxSize: number; seed: number; keep: number },
  ChurnReport
> = async ({ name, child, children, ops, maxSize, seed, keep }, ctx) => {
  const store = ObjectStore.open(name, { lockTimeoutMs: 20_000 });
  const idOf = (c: number, n: number): ObjectId =>
    sha1(Buffer.from(`${name}/${c}/${n}`)) as ObjectId;
  ctx.emit('ready');
  await ctx.waitFor('go', 20_000);
  const failures: string[] = [];
  const live: Array<{ id: ObjectId; n: number }> = [];
  let next = 0;
  let othersRead = 0;
  let r = (seed * 7919 + child * 104729) >>> 0 || 1;
  const rand = (n: number): number => {
    r ^= r << 13;
    r >>>= 0;
    r ^= r >>> 17;
    r ^= r << 5;
    r >>>= 0;
    return r % n;
  };
  for (let i = 0; i < ops; i += 1) {
    const dice = rand(100);
    let op = dice < 45 ? 'create' : dice < 70 ? 'read-own' : dice < 85 ? 'read-other' : 'delete';
    if (op === 'create' && live.length >= keep) op = 'delete';
    if (live.length === 0 && op !== 'read-other') op = 'create';
    try {
      if (op === 'create') {
        const n = next;
        next += 1;
        const id = idOf(child, n);
        const size = MIN_CHECKED_SIZE + rand(maxSize);
        if (rand(4) === 0) {
          // the two-step form, sometimes aborted
          const view = store.create(id, size);
          checkedObject(n * 31 + child, size).copy(view);
          if (rand(5) === 0) {
            store.abort(id);
            continue;
          }
          store.seal(id);
          store.release(id); // the creator's pin
        } else {
          store.put(checkedObject(n * 31 + child, size), id);
        }
        live.push({ id, n });
      } else if (op === 'read-own') {
        const { id } = live[rand(live.length)] ?? { id: idOf(child, 0) };
        const view = store.get(id);
        if (!verifyChecked(view)) failures.push(`own object ${id} corrupted`);
        store.release(id);
      } else if (op === 'read-other') {
        const other = rand(children);
        const id = idOf(other, rand(Math.max(1, next)));
        const [view] = store.getMany([id]);
        if (view !== null && view !== undefined) {
          othersRead += 1;
          if (!verifyChecked(view)) failures.push(`object ${id} of child ${other} corrupted`);
          store.release(id);
        }
      } else {
        const k = rand(live.length);
        const victim = live[k];
        if (victim === undefined) continue;
        try {
          store.delete(victim.id);
          live.splice(k, 1);
        } catch (e) {
          // another child may be reading it right now
          if (!(e instanceof MiniRayError && e.code === 'ERR_OBJECT_IN_USE')) throw e;
        }
      }
    } catch (e) {
      failures.push(`op ${i}: ${e instanceof MiniRayError ? `${e.code}: ${e.message}` : String(e)}`);
      if (failures.length > 20) break;
    }
  }
  store.close();
  return { ops, live: live.map((l) => l.id), failures, othersRead };
};

// Reads every id, returning those missing or failing their self-check.
export const verifyIds: Fixture<{ name: string; ids: readonly ObjectId[] }, string[]> = ({ name, ids }) => {
  const store = ObjectStore.open(name);
  const bad: string[] = [];
  for (const id of ids) {
    try {
      const view = store.get(id);
      if (!verifyChecked(view)) bad.push(`${id}: contents corrupted`);
      store.release(id);
    } catch (e) {
      bad.push(`${id}: ${(e as Error).message}`);
    }
  }
  store.close();
  return bad;
};

// Holds the store's lock until told 'release' (or until killed).
export const holdLock: Fixture<{ name: string }, void> = async ({ name }, ctx) => {
  const store = ObjectStore.open(name);
  store.debug.lock();
  ctx.emit('locked', process.pid);
  await ctx.waitFor('release', 60_000);
  store.debug.unlock();
  store.close();
};

// Overwrites bytes of the segment file directly, as a stray write would.
export function scribble(name: string, offset: number, length: number, byte: number): void {
  poke(name, offset, Buffer.alloc(length, byte));
}

// Writes `bytes` at `offset` of the segment file, as another process could.
export function poke(name: string, offset: number, bytes: Uint8Array): void {
  const fd = openSync(`/dev/shm${name}`, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

// Reads `length` bytes at `offset` of the segment file.
export function peek(name: string, offset: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  const fd = openSync(`/dev/shm${name}`, 'r');
  try {
    readSync(fd, out, 0, length, offset);
  } finally {
    closeSync(fd);
  }
  return out;
}

export const u64 = (value: number | bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(value));
  return b;
};
export const u32 = (value: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return b;
};
export const readU64 = (name: string, offset: number): number => Number(peek(name, offset, 8).readBigUInt64LE());

// Where a field of the segment's fixed format is (phase2-objects/layout/layout.h).
export function fieldAt(key: string): number {
  const at = ObjectStore.layoutInfo()[key];
  if (at === undefined) throw new Error(`no field ${key} in the layout`);
  return at;
}

// The segment offset of the table slot that holds `id` (read from the segment, not through a store).
export function slotOffset(name: string, id: ObjectId): number {
  const info = ObjectStore.layoutInfo();
  const slots = readU64(name, fieldAt('header.table.slots'));
  const want = Buffer.from(id, 'hex');
  for (let i = 0; i < slots; i += 1) {
    const at = (info['tableOffset'] ?? 0) + i * (info['size.entry'] ?? 0);
    if (peek(name, at, 20).equals(want)) return at;
  }
  throw new Error(`object ${id} is in no slot of ${name}`);
}

// The segment offset of the block header in front of object `id`'s bytes.
export function blockOffset(name: string, id: ObjectId): number {
  return readU64(name, slotOffset(name, id) + fieldAt('entry.offset')) - (ObjectStore.layoutInfo()['size.block'] ?? 0);
}

// Creates an unsealed object, writes `size` bytes into it, says 'created' and waits (to be killed,
// or told 'seal').
export const createAndHold: Fixture<{ name: string; id: ObjectId; size: number }, void> = async (
  { name, id, size },
  ctx,
) => {
  const store = ObjectStore.open(name);
  store.create(id, size).fill(7);
  await ctx.emit('created', process.pid);
  await ctx.waitFor('seal', 60_000);
  store.seal(id);
  store.release(id);
  store.close();
};

// Runs operations on a store whose table or data region was scribbled over; returns each outcome.
// The point: nothing crashes this process.
export const probeCorrupt: Fixture<
  { name: string; ids: readonly ObjectId[]; extra: ObjectId },
  { get: string[]; del: string[]; create: string; contains: string; stats: string }
> = ({ name, ids, extra }) => {
  const store = ObjectStore.open(name, { lockTimeoutMs: 2000 });
  const get = [...ids, extra].map((id) =>
    outcome(() => {
      store.get(id);
      store.release(id);
    }),
  );
  const contains = outcome(() => store.contains(extra));
  const del = ids.map((id) => outcome(() => store.delete(id)));
  const create = outcome(() => store.create(('77'.repeat(20)) as ObjectId, 1000));
  const stats = outcome(() => store.stats());
  store.close();
  return { get, del, create, contains, stats };
};

// A lookup that must terminate: contains() of ids that are not in the store.
export const missLookups: Fixture<{ name: string; ids: readonly ObjectId[] }, boolean[]> = ({ name, ids }) => {
  const store = ObjectStore.open(name);
  const out = ids.map((id) => store.contains(id));
  store.close();
  return out;
};
