// Phase 4 (optimisation) against the phase-2 design, measured side by side in one run: rows of
// phase 'phase4' and rows of phase 'phase2' with the same op name are the same workload, the same
// calls with the same sizes in the same order (a seeded generator), on a store of the same capacity.
//
//   get, get_release        a zero-copy get of one id (compare with baseline napi_noop)
//   small_churn             the pool's workload: a working set of 2,048 live objects of random sizes
//                           (1 B - 4 KiB); one operation deletes a random one of them and creates
//                           one of a random size in its place (create, write a byte, seal, release).
//                           Phase 2's first-fit list gets long and ragged, as the lesson says; phase 4
//                           takes a slot of the size class. Before the rounds, 8 operations per
//                           object bring both stores to that steady state.
//   churn_distinct_{1,2,4}p the allocator lock against the one lock: 1, 2 or 4 processes at once,
//                           each churning a working set of its own (256 objects, as small_churn) in a
//                           store that 2,048 churned objects already fragment: time per operation
//                           over all of them. Phase 2's walk of the free list holds the one lock.
//   churn_shared_{1,2,4}p   the stripes against the one lock: each process gets and releases a
//                           random one of 256 objects every process reads, three times, then makes
//                           one churn operation of its own (four operations): the readers meet the
//                           creates, which hold phase 2's one lock for the walk but no stripe of
//                           phase 4 while they allocate.
//   overflow_get            a working set twice the store: get when present, put when not
//                           (phase 4 evicts; phase 2 fails with ERR_SHM_FULL and deletes the oldest
//                           object itself, as a user of phase 2 has to)
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ObjectStore as Phase2Store } from '../../../phase2-objects/index.js';
import { ObjectStore as Phase4Store, idBytes, randomObjectId, type IdLike, type ObjectId, type ObjectIdBytes } from '../../../phase4-optimize/index.js';
import { MiniRayError } from '../../../lib/errors.js';
import { removeSegment, segmentName } from '../cleanup.js';
import { meter, type BenchContext, type ChildOpenRequest, type Meter, type MeterSet, type PhaseBench } from '../context.js';
import { measureBatched, quantile, type Budget, type Stats } from '../harness.js';

export type Design = 'phase2' | 'phase4';

// The part of both stores' interfaces the workloads use.
export interface AnyStore {
  create(id: IdLike, size: number): Buffer;
  seal(id: IdLike): void;
  get(id: IdLike): Buffer;
  release(id: IdLike): void;
  delete(id: IdLike): void;
  contains(id: IdLike): boolean;
  put(data: Uint8Array, id?: ObjectId): ObjectId;
  close(): void;
}

export function make(design: Design, name: string, capacity: number, objects: number): AnyStore {
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

// The largest size of small_churn's objects: the pool's largest class.
export const SMALL_MAX = 4096;
// The churn rows are labelled with their objects' mean size (a size of no other row: they go in the
// table of workloads, not in a column of sizes).
export const SMALL_MEAN = SMALL_MAX / 2;
// small_churn's working set, and each process's own in the churn rows.
export const SMALL_OBJECTS = 2048;
const OWN_OBJECTS = 256;
// Objects every process reads in churn_shared.
const SHARED_OBJECTS = 256;

// A seeded generator (an LCG's high bits): both designs draw the same victims and sizes.
export function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state >>> 8;
  };
}

// A working set of live objects of random sizes (1 B - SMALL_MAX). step() deletes a random one and
// creates one of a random size in its place: create, write a byte, seal, release (one operation).
// Ids are drawn once and reused after their object is deleted (a ring of spare ids), so that
// drawing them costs nothing in the loop; they go to the store as their 20 bytes.
export class SmallChurn {
  private readonly live: ObjectIdBytes[] = [];
  private readonly spare: ObjectIdBytes[] = [];
  private at = 0;
  private readonly next: () => number;

  constructor(
    private readonly store: AnyStore,
    count: number,
    seed: number,
  ) {
    this.next = lcg(seed);
    for (let i = 0; i < count; i += 1) this.spare.push(idBytes(randomObjectId()));
    for (let i = 0; i < count; i += 1) {
      const id = idBytes(randomObjectId());
      this.make(id);
      this.live.push(id);
    }
  }

  size(): number {
    return 1 + (this.next() % SMALL_MAX);
  }

  private make(id: ObjectIdBytes): void {
    this.store.create(id, this.size())[0] = 1;
    this.store.seal(id);
    this.store.release(id);
  }

  step(): void {
    const k = this.next() % this.live.length;
    const victim = this.live[k]!;
    const id = this.spare[this.at]!;
    this.store.delete(victim);
    this.make(id);
    this.live[k] = id;
    this.spare[this.at] = victim;
    this.at = (this.at + 1) % this.spare.length;
  }

  // Deletes every live object (a child's working set, once its window is over).
  clear(): void {
    for (const id of this.live) this.store.delete(id);
    this.live.length = 0;
  }
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

// small_churn: the working set is made and churned to its steady state before the rounds.
function smallMeter(o: Opened, design: Design): Meter {
  const churn = new SmallChurn(o.store, SMALL_OBJECTS, 0x5eed);
  for (let i = 0; i < 8 * SMALL_OBJECTS; i += 1) churn.step();
  return meter(design, 'small_churn', SMALL_MEAN, false, (budget) => measureBatched(`${design} small_churn`, () => churn.step(), budget));
}

// `n` processes run `workload` for the same window (they start it together, through a directory
// barrier); a sample is the window divided by the operations all of them completed in it.
function churnMeter(ctx: BenchContext, o: Opened, design: Design, workload: 'distinct' | 'shared', n: number, shared: readonly string[]): Meter {
  const windowMs = ctx.quick ? 150 : 500;
  return meter(design, `churn_${workload}_${n}p`, SMALL_MEAN, false, async () => {
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
      const o = opened(design, 16 << 20, 2 * SMALL_OBJECTS);
      stores.push(o);
      meters.push(smallMeter(o, design));
    }
    for (const design of ['phase4', 'phase2'] as const) {
      // Room in the table for the background, the shared objects and 4 processes' own.
      const o = opened(design, 32 << 20, 2 * SMALL_OBJECTS + SHARED_OBJECTS + 4 * 2 * OWN_OBJECTS);
      stores.push(o);
      const background = new SmallChurn(o.store, SMALL_OBJECTS, 0xb0b);
      for (let i = 0; i < 8 * SMALL_OBJECTS; i += 1) background.step();
      const next = lcg(0x5a4ed);
      const shared = Array.from({ length: SHARED_OBJECTS }, () => o.store.put(Buffer.alloc(1 + (next() % SMALL_MAX), 1)) as string);
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
    const churn = new SmallChurn(store, OWN_OBJECTS, process.pid);
    writeFileSync(join(barrier, `ready-${process.pid}`), '');
    const deadline = Date.now() + 120_000;
    while (readdirSync(barrier).filter((f) => f.startsWith('ready-')).length < Number(p.n)) {
      if (Date.now() > deadline) throw new Error('the other benchmark processes did not start within 120 s');
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const end = Date.now() + Number(p.windowMs);
    let ops = 0;
    const next = lcg(process.pid);
    const ids = shared.map((id) => idBytes(id));
    while (Date.now() < end) {
      for (let i = 0; i < 16; i += 1) {
        if (p.workload === 'shared' && i % 4 !== 3) {
          const id = ids[next() % ids.length]!;
          store.get(id);
          store.release(id);
        } else {
          churn.step();
        }
        ops += 1;
      }
    }
    writeFileSync(join(barrier, `ops-${process.pid}`), String(ops));
    churn.clear();
  } finally {
    store.close();
  }
}

export const phase4Bench: PhaseBench = { phase: 'phase4', prepare, serve };
