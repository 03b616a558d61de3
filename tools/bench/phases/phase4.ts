// Phase 4 (optimisation) against the phase-2 design, measured side by side in one run: rows of
// phase 'phase4' and rows of phase 'phase2' with the same op name are the same workload.
//
//   get, get_release                a zero-copy get of one id (compare with baseline napi_noop)
//   small_create_delete             create+seal+release+delete of 256 B objects in a store whose
//                                   free list is fragmented (phase 4: a pool slot; phase 2: first fit)
//   churn_distinct_{1,2,4}p         create+seal+get+release+delete of each process's own ids, with
//                                   1, 2, 4 processes at once: time per operation over all of them
//   churn_shared_{1,2,4}p           get+release of 4 ids every process shares
//   overflow_get                    a working set twice the store: get when present, put when not
//                                   (phase 4 evicts; phase 2 fails with ERR_SHM_FULL and deletes
//                                   the oldest object itself, as a user of phase 2 has to)
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ObjectStore as Phase2Store } from '../../../phase2-objects/index.js';
import { ObjectStore as Phase4Store, idBytes, randomObjectId, type ObjectId } from '../../../phase4-optimize/index.js';
import { MiniRayError } from '../../../lib/errors.js';
import { removeSegment, segmentName } from '../cleanup.js';
import { meter, type BenchContext, type ChildOpenRequest, type Meter, type MeterSet, type PhaseBench } from '../context.js';
import { measureBatched, quantile, type Budget, type Stats } from '../harness.js';

type Design = 'phase2' | 'phase4';

// The part of both stores' interfaces the workloads use.
interface AnyStore {
  create(id: ObjectId, size: number): Buffer;
  seal(id: ObjectId): void;
  get(id: ObjectId): Buffer;
  release(id: ObjectId): void;
  delete(id: ObjectId): void;
  contains(id: ObjectId): boolean;
  put(data: Uint8Array, id?: ObjectId): ObjectId;
  close(): void;
}

function make(design: Design, name: string, capacity: number, objects: number): AnyStore {
  return design === 'phase2'
    ? Phase2Store.create(name, { capacity, tableSize: objects * 2 })
    : Phase4Store.create(name, { capacity, stripes: 16, slotsPerStripe: Math.max(64, Math.ceil((objects * 2) / 16)) });
}

function open(design: Design, name: string): AnyStore {
  return design === 'phase2' ? Phase2Store.open(name, { lockTimeoutMs: 30_000 }) : Phase4Store.open(name, { lockTimeoutMs: 30_000 });
}

function statsOf(samples: number[], batch: number): Stats {
  samples.sort((a, b) => a - b);
  return {
    median_ns: quantile(samples, 0.5),
    p90_ns: quantile(samples, 0.9),
    min_ns: samples[0] ?? Number.NaN,
    max_ns: samples[samples.length - 1] ?? Number.NaN,
    samples: samples.length,
    batch,
  };
}

// One full object life, as a Plasma client lives it.
function life(store: AnyStore, size: number): void {
  const id = randomObjectId();
  store.create(id, size)[0] = 1;
  store.seal(id);
  store.release(id);
  store.get(id);
  store.release(id);
  store.delete(id);
}

interface Opened {
  readonly store: AnyStore;
  readonly name: string;
}

function opened(design: Design, capacity: number, objects: number): Opened {
  const name = segmentName();
  return { store: make(design, name, capacity, objects), name };
}

// get and get + release of one id given as its 20 bytes, as phase 2's rows, each batch paired with
// a batch of N-API no-ops (the ratio's denominator).
function getMeters(store: Phase4Store, sizes: readonly number[], noop: () => void): Meter[] {
  const meters: Meter[] = [];
  for (const bytes of sizes) {
    const id = idBytes(store.put(Buffer.alloc(bytes, 7)));
    let sink = 0;
    meters.push(
      meter(
        'phase4',
        'get',
        bytes,
        false,
        (budget) =>
          measureBatched(`phase4 get ${bytes}`, () => (sink += store.get(id).length), budget, {
            finish: (batch) => {
              for (let i = 0; i < batch; i += 1) store.release(id);
            },
            pairedWith: noop,
          }),
        'napi_noop',
      ),
      meter(
        'phase4',
        'get_release',
        bytes,
        false,
        (budget) =>
          measureBatched(
            `phase4 get_release ${bytes}`,
            () => {
              sink += store.get(id).length;
              store.release(id);
            },
            budget,
            { pairedWith: noop },
          ),
        'napi_noop',
      ),
    );
  }
  return meters;
}

// A free list of many pieces: objects of mixed sizes, every other one deleted; then the life of a
// 256-byte object, timed.
function smallMeter(o: Opened, design: Design): Meter {
  const ids: ObjectId[] = [];
  for (let i = 0; i < 1500; i += 1) ids.push(o.store.put(Buffer.alloc(300 + ((i * 7919) % 5000), 1)));
  for (let i = 0; i < ids.length; i += 2) o.store.delete(ids[i]!);
  return meter(design, 'small_create_delete', 256, false, (budget) =>
    measureBatched(
      `${design} small_create_delete`,
      () => {
        const id = randomObjectId();
        o.store.create(id, 256);
        o.store.seal(id);
        o.store.release(id);
        o.store.delete(id);
      },
      budget,
    ),
  );
}

// `n` processes run `workload` for the same window (they start it together, through a directory
// barrier); a sample is the window divided by the operations all of them completed in it.
function churnMeter(ctx: BenchContext, o: Opened, design: Design, workload: 'distinct' | 'shared', n: number, shared: readonly ObjectId[]): Meter {
  const windowMs = ctx.quick ? 150 : 500;
  return meter(design, `churn_${workload}_${n}p`, 256, false, async () => {
    const barrier = mkdtempSync(join(tmpdir(), 'miniray-bench-'));
    try {
      const params = { design, workload, barrier, n, windowMs, shared: shared.join(',') };
      const request: ChildOpenRequest = { kind: 'open', phase: 'phase4', name: o.name, objects: [], quick: ctx.quick, params };
      await Promise.all(Array.from({ length: n }, () => ctx.serve(request)));
      let ops = 0;
      for (const f of readdirSync(barrier)) if (f.startsWith('ops-')) ops += Number(readFileSync(join(barrier, f), 'utf8'));
      if (ops === 0) throw new Error(`${design} churn_${workload}_${n}p: no operation completed`);
      return statsOf([(windowMs * 1e6) / ops], ops);
    } finally {
      rmSync(barrier, { recursive: true, force: true });
    }
  });
}

// A get-heavy workload whose working set is twice the store: get when present, put when not.
function overflowMeter(ctx: BenchContext, o: Opened, design: Design, capacity: number): Meter {
  const size = 16 * 1024;
  const keys = Array.from({ length: Math.floor((2 * capacity) / size) }, () => randomObjectId());
  const payload = Buffer.alloc(size, 3);
  const resident: ObjectId[] = []; // phase 2 only: what it must delete itself
  let state = 12345;
  const step = (): boolean => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    // Skewed: half the requests go to an eighth of the keys.
    const k = state % 2 === 0 ? (state >>> 1) % (keys.length >> 3) : (state >>> 1) % keys.length;
    const id = keys[k]!;
    if (o.store.contains(id)) {
      o.store.get(id);
      o.store.release(id);
      return true;
    }
    for (;;) {
      try {
        o.store.put(payload, id);
        if (design === 'phase2') resident.push(id);
        return false;
      } catch (e) {
        if (!(e instanceof MiniRayError && e.code === 'ERR_SHM_FULL') || design === 'phase4') throw e;
        o.store.delete(resident.shift()!); // FIFO by hand: all phase 2 can do
      }
    }
  };
  return meter(design, 'overflow_get', size, false, async (budget: Budget) => {
    let hits = 0;
    let all = 0;
    const s = await measureBatched(
      `${design} overflow_get`,
      () => {
        all += 1;
        if (step()) hits += 1;
      },
      budget,
    );
    ctx.log(`${design} overflow_get: hit rate ${((100 * hits) / Math.max(1, all)).toFixed(1)}%`);
    return s;
  });
}

async function prepare(ctx: BenchContext): Promise<MeterSet> {
  const stores: Opened[] = [];
  const close = async (): Promise<void> => {
    for (const o of stores) {
      o.store.close();
      removeSegment(o.name);
    }
  };
  try {
    const meters: Meter[] = [];
    const name = segmentName();
    const gets = Phase4Store.create(name, { capacity: 4 << 20, stripes: 16, slotsPerStripe: 64 });
    stores.push({ store: gets, name });
    meters.push(...getMeters(gets, [64, 1 << 20], () => ctx.native.noop()));
    for (const design of ['phase4', 'phase2'] as const) {
      const o = opened(design, 16 << 20, 4096);
      stores.push(o);
      meters.push(smallMeter(o, design));
    }
    for (const design of ['phase4', 'phase2'] as const) {
      const o = opened(design, 32 << 20, 4096);
      stores.push(o);
      const shared = [0, 1, 2, 3].map((i) => o.store.put(Buffer.alloc(256, i)));
      for (const workload of ['distinct', 'shared'] as const) {
        for (const n of [1, 2, 4]) meters.push(churnMeter(ctx, o, design, workload, n, shared));
      }
    }
    for (const design of ['phase4', 'phase2'] as const) {
      const capacity = 4 << 20;
      const o = opened(design, capacity, 1024);
      stores.push(o);
      meters.push(overflowMeter(ctx, o, design, capacity));
    }
    return { meters, close };
  } catch (e) {
    await close();
    throw e;
  }
}

// The second process: runs the workload for the window once all n have started, and writes how
// many operations it completed into the barrier directory.
async function serve(req: ChildOpenRequest): Promise<void> {
  const p = req.params ?? {};
  const design = p.design === 'phase2' ? 'phase2' : 'phase4';
  const store = open(design, req.name);
  try {
    const shared = String(p.shared ?? '').split(',').filter((s) => s.length > 0) as ObjectId[];
    const barrier = String(p.barrier);
    writeFileSync(join(barrier, `ready-${process.pid}`), '');
    const deadline = Date.now() + 120_000;
    while (readdirSync(barrier).filter((f) => f.startsWith('ready-')).length < Number(p.n)) {
      if (Date.now() > deadline) throw new Error('the other benchmark processes did not start within 120 s');
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const end = Date.now() + Number(p.windowMs);
    let ops = 0;
    let k = 0;
    while (Date.now() < end) {
      for (let i = 0; i < 16; i += 1) {
        if (p.workload === 'shared') {
          const id = shared[k++ % shared.length]!;
          store.get(id);
          store.release(id);
        } else {
          life(store, 256);
        }
        ops += 1;
      }
    }
    writeFileSync(join(barrier, `ops-${process.pid}`), String(ops));
  } finally {
    store.close();
  }
}

export const phase4Bench: PhaseBench = { phase: 'phase4', prepare, serve };
