// Phase 1 (bump allocator, no delete, no create/seal): put and get, from this process and from a
// second one, and the glue's locate() alone (a get without its view).
import { idBytes, type IdLike, type ObjectIdBytes } from '../../../lib/ids.js';
import { loadAddon } from '../../../lib/native.js';
import { DEFAULT_LOCK_TIMEOUT_MS, ShmStore, type ObjectId } from '../../../phase1-shm/index.js';
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
import { fmtBytes } from '../report.js';

// Phase 1 never frees, so put fills a segment of poolSlots() objects and the benchmark then moves
// to a fresh one (untimed), pre-faulted so that puts pay for copying bytes, not for first-touch
// page faults.

class PutPool {
  store: ShmStore | undefined;
  private name = '';
  private used = 0;

  constructor(
    private readonly bytes: number,
    readonly slots: number,
    private readonly ctx: BenchContext,
  ) {}

  // Makes room for k more puts.
  async reserve(k: number): Promise<ShmStore> {
    if (this.store === undefined || this.used + k > this.slots) await this.rotate();
    this.used += k;
    if (this.store === undefined) throw new Error('no put segment');
    return this.store;
  }

  private async rotate(): Promise<void> {
    await this.close();
    this.name = segmentName();
    const store = ShmStore.create(this.name, {
      capacity: this.slots * aligned(this.bytes) + 4096,
      maxObjects: this.slots + 1,
    });
    this.store = store;
    // A zero-byte object's view exposes the ArrayBuffer over the whole mapping: touch every page.
    this.ctx.native.touch(store.get(store.put(new Uint8Array(0))));
    this.used = 0;
  }

  async close(): Promise<void> {
    if (this.store !== undefined) {
      this.store.close();
      removeSegment(this.name);
      this.store = undefined;
      await collectGarbage(); // unmaps it now, not whenever V8 next collects
    }
  }
}

// The glue's own locate(id): the get without the view made in JavaScript (a step of a get).
interface RawStore {
  locate(id: IdLike): void;
  close(): void;
}

function rawStore(name: string): RawStore {
  return loadAddon<{ open(name: string, lockTimeoutMs: number): RawStore }>('phase1').open(name, DEFAULT_LOCK_TIMEOUT_MS);
}

// get of one object, its id given as 20 bytes (what the targets are measured on).
// With `noop`, a batch of N-API no-ops is timed right before every batch (the ratio's denominator).
function getMeter(phase: 'phase1', op: string, store: ShmStore, id: ObjectIdBytes, bytes: number, noop?: () => void): Meter {
  const measure = async (budget: Budget): Promise<Stats> => {
    let sink = 0;
    const s = await measureBatched(
      `${phase} ${op} ${bytes}`,
      () => {
        sink += store.get(id).length;
      },
      budget,
      noop === undefined ? {} : { pairedWith: noop },
    );
    if (sink === 0 && bytes > 0) throw new Error('get returned empty views');
    return s;
  };
  return meter(phase, op, bytes, false, measure, noop === undefined ? undefined : 'napi_noop');
}

async function prepare(ctx: BenchContext): Promise<MeterSet> {
  const name = segmentName();
  const data = ctx.sizes.map((bytes) => testBytes(bytes));
  const store = ShmStore.create(name, {
    capacity: ctx.sizes.reduce((a, b) => a + aligned(b), 0) + 4096,
    maxObjects: 16,
  });
  const closers: (() => Promise<void>)[] = [
    async () => {
      store.close();
      removeSegment(name);
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
      if (!store.get(id).equals(src)) throw new Error(`get(put(x)) != x for ${fmtBytes(src.length)}`);
      ids.push(idBytes(id));
      objects.push({ bytes: src.length, id, sha1: sha1(src) });
    }
    const raw = rawStore(name);
    closers.push(async () => raw.close());
    const meters: Meter[] = [];
    const small = ids[0] as ObjectIdBytes;
    // The floor again, next to this phase's gets: the get / no-op ratio compares neighbours.
    meters.push(meter('phase1', 'napi_noop', 0, false, (budget) => measureBatched('phase1 noop', () => ctx.native.noop(), budget)));
    // locate(id) paired with a call that reads the id and locks (bench_lock): the lookup step.
    const idLock = ctx.native.idLockUnlock;
    meters.push(
      meter(
        'phase1',
        'step_locate',
        0,
        false,
        (budget) => measureBatched('phase1 locate', () => raw.locate(small), budget, idLock === undefined ? {} : { pairedWith: () => idLock(small) }),
        idLock === undefined ? undefined : 'id_lock_unlock',
      ),
    );
    for (const [i, src] of data.entries()) {
      const bytes = src.length;
      if (bytes >= PAIRED_MEMCPY_FROM) meters.push(meter('phase1', 'memcpy', bytes, true, (budget) => ctx.memcpy(bytes, budget)));
      // From 1 MiB on, every put is paired with a memcpy of the same bytes (put / memcpy bandwidth).
      const paired = bytes >= PAIRED_MEMCPY_FROM ? ctx.memcpyCall(bytes) : undefined;
      meters.push(meter('phase1', 'put', bytes, true, (budget) => putStats(ctx, src, budget, paired), paired === undefined ? undefined : 'memcpy'));
      meters.push(getMeter('phase1', 'get', store, ids[i] as ObjectIdBytes, bytes, () => ctx.native.noop()));
    }
    const other = await ctx.otherProcess({ kind: 'open', phase: 'phase1', name, objects, quick: ctx.quick });
    closers.push(() => other.close());
    meters.push(...other.meters);
    return { meters, close };
  } catch (e) {
    await close();
    throw e;
  }
}

// put of `src` into fresh pre-faulted segments (untimed rotation when one is full).
async function putStats(ctx: BenchContext, src: Buffer, budget: Budget, memcpy?: () => void): Promise<Stats> {
  const bytes = src.length;
  const pool = new PutPool(bytes, poolSlots(bytes, ctx.quick), ctx);
  try {
    let current = await pool.reserve(0);
    return await measureBatched(
      `phase1 put ${bytes}`,
      () => {
        current.put(src);
      },
      budget,
      {
        maxBatch: pool.slots,
        prepare: async (k) => {
          current = await pool.reserve(k);
        },
        ...(memcpy === undefined ? {} : { pairedWith: memcpy }),
      },
    );
  } finally {
    await pool.close();
  }
}

async function childMeters(req: ChildOpenRequest): Promise<MeterSet> {
  const store = ShmStore.open(req.name);
  try {
    const meters: Meter[] = [];
    for (const obj of req.objects) {
      const id = obj.id as ObjectId;
      const view = store.get(id);
      if (view.length !== obj.bytes || sha1(view) !== obj.sha1) {
        throw new Error(`second process read different bytes for the ${fmtBytes(obj.bytes)} object`);
      }
      meters.push(getMeter('phase1', 'get_other_process', store, idBytes(id), obj.bytes));
    }
    return { meters, close: async () => store.close() };
  } catch (e) {
    store.close();
    throw e;
  }
}

export const phase1Bench: PhaseBench = { phase: 'phase1', prepare, childMeters };
