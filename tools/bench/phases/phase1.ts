// Phase 1 (bump allocator, no delete, no create/seal): put and get.
import { ShmStore, type ObjectId } from '../../../phase1-shm/index.js';
import { PAIRED_MEMCPY_FROM, aligned, budgetFor, poolSlots, sha1, testBytes, toRow, type BenchContext, type ChildGetRequest, type ObjectRef, type PhaseBench } from '../context.js';
import { collectGarbage, measureBatched } from '../harness.js';
import { fmtBytes, type Row } from '../report.js';
import { removeSegment, segmentName } from '../cleanup.js';

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

async function run(ctx: BenchContext): Promise<Row[]> {
  const rows: Row[] = [];
  const name = segmentName();
  const data = ctx.sizes.map((bytes) => testBytes(bytes));
  const store = ShmStore.create(name, {
    capacity: ctx.sizes.reduce((a, b) => a + aligned(b), 0) + 4096,
    maxObjects: 16,
  });
  try {
    const objects: ObjectRef[] = [];
    const ids: ObjectId[] = [];
    for (const src of data) {
      const id = store.put(src);
      if (!store.get(id).equals(src)) throw new Error(`get(put(x)) != x for ${fmtBytes(src.length)}`);
      ids.push(id);
      objects.push({ bytes: src.length, id, sha1: sha1(src) });
    }

    for (const [i, src] of data.entries()) {
      const bytes = src.length;
      if (bytes >= PAIRED_MEMCPY_FROM) rows.push(toRow('phase1', 'memcpy', bytes, await ctx.memcpy(bytes), true));
      const pool = new PutPool(bytes, poolSlots(bytes, ctx.quick), ctx);
      try {
        let current = await pool.reserve(0);
        const s = await measureBatched(
          `phase1 put ${bytes}`,
          () => {
            current.put(src);
          },
          budgetFor(bytes, ctx.quick),
          {
            maxBatch: pool.slots,
            prepare: async (k) => {
              current = await pool.reserve(k);
            },
          },
        );
        rows.push(toRow('phase1', 'put', bytes, s, true));
      } finally {
        await pool.close();
      }

      const id = ids[i] as ObjectId;
      let sink = 0;
      const g = await measureBatched(
        `phase1 get ${bytes}`,
        () => {
          sink += store.get(id).length;
        },
        budgetFor(bytes, ctx.quick),
      );
      if (sink === 0 && bytes > 0) throw new Error('get returned empty views');
      rows.push(toRow('phase1', 'get', bytes, g, false));
      ctx.log(`phase1 ${fmtBytes(bytes)} done`);
    }

    rows.push(...(await ctx.otherProcess({ kind: 'get', phase: 'phase1', name, objects, quick: ctx.quick })));
  } finally {
    store.close();
    removeSegment(name);
  }
  return order(rows);
}

const OPS = ['memcpy', 'put', 'get', 'get_other_process'];
function order(rows: Row[]): Row[] {
  return rows.sort((a, b) => OPS.indexOf(a.op) - OPS.indexOf(b.op) || a.bytes - b.bytes);
}

async function childGet(req: ChildGetRequest): Promise<Row[]> {
  const store = ShmStore.open(req.name);
  try {
    const rows: Row[] = [];
    for (const obj of req.objects) {
      const id = obj.id as ObjectId;
      const view = store.get(id);
      if (view.length !== obj.bytes || sha1(view) !== obj.sha1) {
        throw new Error(`second process read different bytes for the ${fmtBytes(obj.bytes)} object`);
      }
      let sink = 0;
      const s = await measureBatched(
        `phase1 get (other process) ${obj.bytes}`,
        () => {
          sink += store.get(id).length;
        },
        budgetFor(obj.bytes, req.quick),
      );
      if (sink === 0 && obj.bytes > 0) throw new Error('get returned empty views');
      rows.push(toRow('phase1', 'get_other_process', obj.bytes, s, false));
    }
    return rows;
  } finally {
    store.close();
  }
}

export const phase1Bench: PhaseBench = { phase: 'phase1', run, childGet };
