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
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ObjectStore as Phase2Store } from '../../../phase2-objects/index.js';
import { ObjectStore as Phase4Store, randomObjectId, type ObjectId } from '../../../phase4-optimize/index.js';
import { MiniRayError } from '../../../lib/errors.js';
import { removeSegment, segmentName } from '../cleanup.js';
import { budgetFor, toRow, type BenchContext, type ChildGetRequest, type PhaseBench } from '../context.js';
import { measureBatched, type Stats } from '../harness.js';
import type { Row } from '../report.js';

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
    median_ns: samples[Math.floor(samples.length / 2)] ?? Number.NaN,
    p90_ns: samples[Math.min(samples.length - 1, Math.ceil(samples.length * 0.9) - 1)] ?? Number.NaN,
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

async function getRows(ctx: BenchContext): Promise<Row[]> {
  const name = segmentName();
  const store = Phase4Store.create(name, { capacity: 4 << 20 });
  try {
    const rows: Row[] = [];
    for (const bytes of [64, 1 << 20]) {
      const id = store.put(Buffer.alloc(bytes, 7));
      let sink = 0;
      const get = await measureBatched(`phase4 get ${bytes}`, () => (sink += store.get(id).length), budgetFor(bytes, ctx.quick), {
        finish: (batch) => {
          for (let i = 0; i < batch; i += 1) store.release(id);
        },
      });
      const pair = await measureBatched(
        `phase4 get_release ${bytes}`,
        () => {
          sink += store.get(id).length;
          store.release(id);
        },
        budgetFor(bytes, ctx.quick),
      );
      if (sink === 0) throw new Error('get returned empty views');
      rows.push(toRow('phase4', 'get', bytes, get, false), toRow('phase4', 'get_release', bytes, pair, false));
    }
    return rows;
  } finally {
    store.close();
    removeSegment(name);
  }
}

// A free list of many pieces: objects of mixed sizes, every other one deleted.
async function smallCreateDelete(ctx: BenchContext, design: Design): Promise<Row> {
  const name = segmentName();
  const store = make(design, name, 16 << 20, 4096);
  try {
    const ids: ObjectId[] = [];
    for (let i = 0; i < 1500; i += 1) ids.push(store.put(Buffer.alloc(300 + ((i * 7919) % 5000), 1)));
    for (let i = 0; i < ids.length; i += 2) store.delete(ids[i]!);
    const s = await measureBatched(
      `${design} small_create_delete`,
      () => {
        const id = randomObjectId();
        store.create(id, 256);
        store.seal(id);
        store.release(id);
        store.delete(id);
      },
      budgetFor(256, ctx.quick),
    );
    return toRow(design, 'small_create_delete', 256, s, false);
  } finally {
    store.close();
    removeSegment(name);
  }
}

// `n` processes run `workload` for the same wall-clock window (they start it together); the row
// is the window divided by the operations all of them completed in it.
async function churn(ctx: BenchContext, design: Design, workload: 'distinct' | 'shared', n: number): Promise<Row> {
  const name = segmentName();
  const store = make(design, name, 32 << 20, 4096);
  try {
    const shared = [0, 1, 2, 3].map((i) => store.put(Buffer.alloc(256, i)));
    const windowMs = ctx.quick ? 150 : 800;
    const rounds = ctx.quick ? 1 : 3;
    const samples: number[] = [];
    for (let r = 0; r < rounds; r += 1) {
      // A barrier in a directory: each child writes a file when it is ready and starts its window
      // when all n files are there (children can take seconds to start on a loaded machine).
      const barrier = mkdtempSync(join(tmpdir(), 'miniray-bench-'));
      try {
        const params = { design, workload, barrier, n, windowMs, shared: shared.join(',') };
        const request: ChildGetRequest = { kind: 'get', phase: 'phase4', name, objects: [], quick: ctx.quick, params };
        const replies = await Promise.all(Array.from({ length: n }, () => ctx.otherProcess(request)));
        const ops = replies.flat().reduce((sum, row) => sum + row.batch, 0);
        if (ops === 0) throw new Error(`${design} churn_${workload}_${n}p: no operation completed`);
        samples.push((windowMs * 1e6) / ops);
      } finally {
        rmSync(barrier, { recursive: true, force: true });
      }
    }
    return toRow(design, `churn_${workload}_${n}p`, 256, statsOf(samples, 1), false);
  } finally {
    store.close();
    removeSegment(name);
  }
}

// A get-heavy workload whose working set is twice the store.
async function overflow(ctx: BenchContext, design: Design): Promise<Row> {
  const name = segmentName();
  const size = 16 * 1024;
  const capacity = 4 << 20;
  const store = make(design, name, capacity, 1024);
  const keys = Array.from({ length: Math.floor((2 * capacity) / size) }, () => randomObjectId());
  const payload = Buffer.alloc(size, 3);
  const resident: ObjectId[] = []; // phase 2 only: what it must delete itself
  let hits = 0;
  let misses = 0;
  let state = 12345;
  try {
    const step = (): void => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      // Skewed: half the requests go to an eighth of the keys.
      const k = state % 2 === 0 ? (state >>> 1) % (keys.length >> 3) : (state >>> 1) % keys.length;
      const id = keys[k]!;
      if (store.contains(id)) {
        store.get(id);
        store.release(id);
        hits += 1;
        return;
      }
      misses += 1;
      for (;;) {
        try {
          store.put(payload, id);
          if (design === 'phase2') resident.push(id);
          return;
        } catch (e) {
          if (!(e instanceof MiniRayError && e.code === 'ERR_SHM_FULL') || design === 'phase4') throw e;
          store.delete(resident.shift()!); // FIFO by hand: all phase 2 can do
        }
      }
    };
    const s = await measureBatched(`${design} overflow_get`, step, budgetFor(size, ctx.quick));
    ctx.log(`${design} overflow_get: hit rate ${((100 * hits) / Math.max(1, hits + misses)).toFixed(1)}%`);
    return toRow(design, 'overflow_get', size, s, false);
  } finally {
    store.close();
    removeSegment(name);
  }
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const rows: Row[] = [...(await getRows(ctx))];
  ctx.log('phase4 get done');
  for (const design of ['phase4', 'phase2'] as const) rows.push(await smallCreateDelete(ctx, design));
  ctx.log('phase4 small_create_delete done');
  for (const workload of ['distinct', 'shared'] as const) {
    for (const n of [1, 2, 4]) {
      for (const design of ['phase4', 'phase2'] as const) rows.push(await churn(ctx, design, workload, n));
      ctx.log(`phase4 churn_${workload}_${n}p done`);
    }
  }
  for (const design of ['phase4', 'phase2'] as const) rows.push(await overflow(ctx, design));
  return rows;
}

// The second process: runs the workload from startAt for windowMs and reports how many operations
// it completed (as the row's batch).
async function childGet(req: ChildGetRequest): Promise<Row[]> {
  const p = req.params ?? {};
  const design = p.design === 'phase2' ? 'phase2' : 'phase4';
  const store = open(design, req.name);
  try {
    const shared = String(p.shared ?? '').split(',').filter((s) => s.length > 0) as ObjectId[];
    const barrier = String(p.barrier);
    writeFileSync(join(barrier, `ready-${process.pid}`), '');
    const deadline = Date.now() + 120_000;
    while (readdirSync(barrier).length < Number(p.n)) {
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
    const s = statsOf([Number(p.windowMs) * 1e6 / Math.max(ops, 1)], ops);
    return [toRow(design, 'child', 256, s, false)];
  } finally {
    store.close();
  }
}

export const phase4Bench: PhaseBench = { phase: 'phase4', run, childGet };
