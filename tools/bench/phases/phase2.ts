// Phase 2 (object store: create/seal/get/release/delete, free-list allocator): put, create+seal,
// get (and get + release, as Plasma's clients do), from this process and from a second one, and the
// steps of a get on their own (the glue's contains() and locate(), and the id as hex digits).
import { randomBytes } from 'node:crypto';

import { idBytes, idHex, type IdLike, type ObjectIdBytes } from '../../../lib/ids.js';
import { loadAddon } from '../../../lib/native.js';
import { DEFAULT_LOCK_TIMEOUT_MS, ObjectStore, type ObjectId } from '../../../phase2-objects/index.js';
import { removeSegment, segmentName } from '../cleanup.js';
import {
  PAIRED_MEMCPY_FROM,
  aligned,
  meter,
  poolSlots,
  sha1,
  testBytes,
  type BenchContext,
  type ChildOpenRequest,
  type Meter,
  type MeterSet,
  type ObjectRef,
  type PhaseBench,
} from '../context.js';
import { collectGarbage, measureBatched, type Budget, type Stats } from '../harness.js';
import { MiB, fmtBytes } from '../report.js';

// Room per object beyond its bytes: the allocator's block header and alignment (generous).
const BLOCK_SLACK = 256;

// Fresh ids made ahead, untimed, as 20 bytes each: Plasma's clients pick ids themselves, so id
// generation is not part of the store's put.
function freshIds(n: number): ObjectIdBytes[] {
  const all = randomBytes(20 * n);
  const out: ObjectIdBytes[] = [];
  for (let i = 0; i < n; i += 1) out.push(all.subarray(20 * i, 20 * i + 20) as unknown as ObjectIdBytes);
  return out;
}

// Objects written by put / create+seal live until `slots` of them fill the segment (so that each
// write goes to memory the previous ones did not just warm, like the memcpy baseline); then all are
// deleted, untimed, and the allocator hands the same space out again.
class WritePool {
  readonly slots: number;
  private readonly store: ObjectStore;
  private readonly live: ObjectIdBytes[] = [];
  ids: ObjectIdBytes[] = [];
  next = 0;

  constructor(
    readonly name: string,
    bytes: number,
    quick: boolean,
    native: BenchContext['native'],
  ) {
    this.slots = poolSlots(bytes, quick);
    this.store = ObjectStore.create(name, {
      capacity: this.slots * (aligned(bytes) + BLOCK_SLACK) + MiB,
      tableSize: this.slots * 2,
    });
    // Pre-fault the whole mapping (the view's buffer is the ArrayBuffer over all of it).
    const probe = freshIds(1)[0] as ObjectIdBytes;
    native.touch(this.store.create(probe, 1));
    this.store.abort(probe);
  }

  get handle(): ObjectStore {
    return this.store;
  }

  // Makes room for k more objects and hands out k fresh ids through `ids` / `next`.
  reserve(k: number): void {
    if (this.live.length + k > this.slots) this.clear();
    this.ids = freshIds(k);
    this.next = 0;
    this.live.push(...this.ids);
  }

  clear(): void {
    for (const id of this.live) this.store.delete(id);
    this.live.length = 0;
  }

  close(): void {
    this.store.close();
    removeSegment(this.name);
  }
}

async function writeStats(ctx: BenchContext, op: 'put' | 'create_seal', src: Buffer, budget: Budget, memcpy?: () => void): Promise<Stats> {
  const bytes = src.length;
  const pool = new WritePool(segmentName(), bytes, ctx.quick, ctx.native);
  const store = pool.handle;
  try {
    const body =
      op === 'put'
        ? (): void => {
            store.put(src, pool.ids[pool.next++] as ObjectIdBytes);
          }
        : (): void => {
            const id = pool.ids[pool.next++] as ObjectIdBytes;
            store.create(id, bytes).set(src);
            store.seal(id);
            store.release(id); // the creator's pin, as a Plasma client releases after Seal
          };
    const s = await measureBatched(`phase2 ${op} ${bytes}`, body, budget, {
      maxBatch: pool.slots,
      prepare: (k) => pool.reserve(k),
      ...(memcpy === undefined ? {} : { pairedWith: memcpy }),
    });
    // The last object written must read back as written.
    const last = pool.ids[pool.next - 1] as ObjectIdBytes;
    const view = store.get(last);
    const ok = view.equals(src);
    store.release(last);
    if (!ok) throw new Error(`${op} of ${fmtBytes(bytes)} did not store the bytes given`);
    pool.clear();
    return s;
  } finally {
    pool.close();
    await collectGarbage();
  }
}

// get of one sealed object (pin + view), timed in batches; the batch's pins are released after
// it, untimed. `<op>_release` times the pair, as a Plasma client that is done with the object pays.
// With `noop`, a batch of N-API no-ops is timed right before every batch (the ratio's denominator).
function getMeters(store: ObjectStore, id: IdLike, bytes: number, op: string, noop?: () => void): Meter[] {
  let sink = 0;
  const check = (): void => {
    if (sink === 0 && bytes > 0) throw new Error('get returned empty views');
  };
  const paired = noop === undefined ? undefined : 'napi_noop';
  return [
    meter(
      'phase2',
      op,
      bytes,
      false,
      async (budget) => {
      const s = await measureBatched(
        `phase2 ${op} ${bytes}`,
        () => {
          sink += store.get(id).length;
        },
        budget,
        {
          finish: (batch) => {
            for (let i = 0; i < batch; i += 1) store.release(id);
          },
          ...(noop === undefined ? {} : { pairedWith: noop }),
        },
      );
      check();
      return s;
      },
      paired,
    ),
    meter(
      'phase2',
      `${op}_release`,
      bytes,
      false,
      async (budget) => {
      const s = await measureBatched(
        `phase2 ${op}_release ${bytes}`,
        () => {
          sink += store.get(id).length;
          store.release(id);
        },
        budget,
        noop === undefined ? {} : { pairedWith: noop },
      );
      check();
      return s;
      },
      paired,
    ),
  ];
}

// The glue's own contains(id) and locate(id): steps of a get, without the harness and the view.
interface RawStore {
  locate(id: IdLike, timeoutMs?: number): void;
  contains(id: IdLike): boolean;
  release(id: IdLike): void;
  close(): void;
}

function stepMeters(name: string, id: ObjectIdBytes, idLock?: (id: ObjectIdBytes) => boolean): { meters: Meter[]; close: () => void } {
  const raw = loadAddon<{ open(name: string, lockTimeoutMs: number): RawStore }>('phase2').open(name, DEFAULT_LOCK_TIMEOUT_MS);
  if (!raw.contains(id)) throw new Error('contains() does not see the object');
  const meters = [
    // contains(id) paired with a call that reads the id and locks (bench_lock): the lookup step.
    meter(
      'phase2',
      'step_contains',
      0,
      false,
      (budget) => measureBatched('phase2 contains', () => raw.contains(id), budget, idLock === undefined ? {} : { pairedWith: () => idLock(id) }),
      idLock === undefined ? undefined : 'id_lock_unlock',
    ),
    meter('phase2', 'step_locate', 0, false, (budget) =>
      measureBatched('phase2 locate', () => raw.locate(id), budget, {
        finish: (batch) => {
          for (let i = 0; i < batch; i += 1) raw.release(id);
        },
      }),
    ),
  ];
  return { meters, close: () => raw.close() };
}

async function prepare(ctx: BenchContext): Promise<MeterSet> {
  const meters: Meter[] = [];
  const data = ctx.sizes.map((bytes) => testBytes(bytes));
  for (const src of data) {
    const bytes = src.length;
    if (bytes >= PAIRED_MEMCPY_FROM) meters.push(meter('phase2', 'memcpy', bytes, true, (budget) => ctx.memcpy(bytes, budget)));
    // From 1 MiB on, every put is paired with a memcpy of the same bytes (put / memcpy bandwidth).
    const paired = bytes >= PAIRED_MEMCPY_FROM ? ctx.memcpyCall(bytes) : undefined;
    meters.push(meter('phase2', 'put', bytes, true, (budget) => writeStats(ctx, 'put', src, budget, paired), paired === undefined ? undefined : 'memcpy'));
    meters.push(meter('phase2', 'create_seal', bytes, true, (budget) => writeStats(ctx, 'create_seal', src, budget)));
  }

  const name = segmentName();
  const store = ObjectStore.create(name, {
    capacity: ctx.sizes.reduce((a, b) => a + aligned(b) + BLOCK_SLACK, 0) + MiB,
    tableSize: 64,
  });
  const closers: (() => Promise<void> | void)[] = [
    () => {
      const pinned = store.stats().pinned;
      store.close();
      removeSegment(name);
      if (pinned !== 0) throw new Error(`${pinned} pins left behind after get + release`);
    },
  ];
  const close = async (): Promise<void> => {
    for (const c of closers.reverse()) await c();
  };
  try {
    const objects: ObjectRef[] = [];
    const ids: ObjectIdBytes[] = [];
    for (const src of data) {
      const id = store.put(src);
      objects.push({ bytes: src.length, id, sha1: sha1(src) });
      ids.push(idBytes(id));
    }
    const small = ids[0] as ObjectIdBytes;
    // The floor again, next to this phase's gets: the get / no-op ratio compares neighbours.
    meters.push(meter('phase2', 'napi_noop', 0, false, (budget) => measureBatched('phase2 noop', () => ctx.native.noop(), budget)));
    const steps = stepMeters(name, small, ctx.native.idLockUnlock);
    closers.push(steps.close);
    meters.push(...steps.meters);
    const noop = (): void => ctx.native.noop(); // as the napi_noop row calls it
    for (const [i, src] of data.entries()) meters.push(...getMeters(store, ids[i] as ObjectIdBytes, src.length, 'get', noop));
    // The same get with the id as 40 hex digits: what parsing the string costs.
    meters.push(getMeters(store, idHex(small), data[0]?.length ?? 0, 'get_hex_id')[0] as Meter);
    const other = await ctx.otherProcess({ kind: 'open', phase: 'phase2', name, objects, quick: ctx.quick });
    closers.push(() => other.close());
    meters.push(...other.meters);
    return { meters, close };
  } catch (e) {
    await close();
    throw e;
  }
}

async function childMeters(req: ChildOpenRequest): Promise<MeterSet> {
  const store = ObjectStore.open(req.name);
  try {
    const meters: Meter[] = [];
    for (const obj of req.objects) {
      const id = obj.id as ObjectId;
      const view = store.get(id);
      const same = view.length === obj.bytes && sha1(view) === obj.sha1;
      store.release(id);
      if (!same) throw new Error(`second process read different bytes for the ${fmtBytes(obj.bytes)} object`);
      meters.push(...getMeters(store, idBytes(id), obj.bytes, 'get_other_process'));
    }
    return { meters, close: async () => store.close() };
  } catch (e) {
    store.close();
    throw e;
  }
}

export const phase2Bench: PhaseBench = { phase: 'phase2', prepare, childMeters };
