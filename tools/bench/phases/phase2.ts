// Phase 2 (object store: create/seal/get/release/delete, free-list allocator): put, create+seal,
// get (and get + release, as Plasma's clients do), from this process and from a second one.
import { randomBytes } from 'node:crypto';

import { ObjectStore, type ObjectId } from '../../../phase2-objects/index.js';
import { removeSegment, segmentName } from '../cleanup.js';
import {
  PAIRED_MEMCPY_FROM,
  aligned,
  budgetFor,
  poolSlots,
  sha1,
  testBytes,
  toRow,
  type BenchContext,
  type ChildGetRequest,
  type ObjectRef,
  type PhaseBench,
} from '../context.js';
import { collectGarbage, measureBatched } from '../harness.js';
import { MiB, fmtBytes, type Row } from '../report.js';

// Room per object beyond its bytes: the allocator's block header and alignment (generous).
const BLOCK_SLACK = 256;

// Fresh ids made ahead, untimed: Plasma's clients pick ids themselves, so id generation is not part
// of the store's put.
function freshIds(n: number): ObjectId[] {
  const hex = randomBytes(20 * n).toString('hex');
  const out: ObjectId[] = [];
  for (let i = 0; i < n; i += 1) out.push(hex.slice(40 * i, 40 * i + 40) as ObjectId);
  return out;
}

// Objects written by put / create+seal live until `slots` of them fill the segment (so that each
// write goes to memory the previous ones did not just warm, like the memcpy baseline); then all are
// deleted, untimed, and the allocator hands the same space out again.
class WritePool {
  readonly slots: number;
  private readonly store: ObjectStore;
  private readonly live: ObjectId[] = [];
  ids: ObjectId[] = [];
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
    const probe = freshIds(1)[0] as ObjectId;
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

async function writeRow(
  ctx: BenchContext,
  op: 'put' | 'create_seal',
  src: Buffer,
): Promise<Row> {
  const bytes = src.length;
  const pool = new WritePool(segmentName(), bytes, ctx.quick, ctx.native);
  const store = pool.handle;
  try {
    const body =
      op === 'put'
        ? (): void => {
            store.put(src, pool.ids[pool.next++] as ObjectId);
          }
        : (): void => {
            const id = pool.ids[pool.next++] as ObjectId;
            store.create(id, bytes).set(src);
            store.seal(id);
            store.release(id); // the creator's pin, as a Plasma client releases after Seal
          };
    const s = await measureBatched(`phase2 ${op} ${bytes}`, body, budgetFor(bytes, ctx.quick), {
      maxBatch: pool.slots,
      prepare: (k) => pool.reserve(k),
    });
    // The last object written must read back as written.
    const last = pool.ids[pool.next - 1] as ObjectId;
    const view = store.get(last);
    const ok = view.equals(src);
    store.release(last);
    if (!ok) throw new Error(`${op} of ${fmtBytes(bytes)} did not store the bytes given`);
    pool.clear();
    return toRow('phase2', op, bytes, s, true);
  } finally {
    pool.close();
    await collectGarbage();
  }
}

// get of one sealed object (pin + view), timed in batches; the batch's pins are released after
// it, untimed. `get_release` times the pair, as a Plasma client that is done with the object pays.
async function getRows(store: ObjectStore, id: ObjectId, bytes: number, op: string, quick: boolean): Promise<Row[]> {
  let sink = 0;
  const get = await measureBatched(
    `phase2 ${op} ${bytes}`,
    () => {
      sink += store.get(id).length;
    },
    budgetFor(bytes, quick),
    {
      finish: (batch) => {
        for (let i = 0; i < batch; i += 1) store.release(id);
      },
    },
  );
  const pair = await measureBatched(
    `phase2 ${op}_release ${bytes}`,
    () => {
      sink += store.get(id).length;
      store.release(id);
    },
    budgetFor(bytes, quick),
  );
  if (sink === 0 && bytes > 0) throw new Error('get returned empty views');
  return [toRow('phase2', op, bytes, get, false), toRow('phase2', `${op}_release`, bytes, pair, false)];
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const rows: Row[] = [];
  const data = ctx.sizes.map((bytes) => testBytes(bytes));
  for (const src of data) {
    if (src.length >= PAIRED_MEMCPY_FROM) {
      rows.push(toRow('phase2', 'memcpy', src.length, await ctx.memcpy(src.length), true));
    }
    rows.push(await writeRow(ctx, 'put', src));
    rows.push(await writeRow(ctx, 'create_seal', src));
    ctx.log(`phase2 ${fmtBytes(src.length)} put, create_seal done`);
  }

  const name = segmentName();
  const store = ObjectStore.create(name, {
    capacity: ctx.sizes.reduce((a, b) => a + aligned(b) + BLOCK_SLACK, 0) + MiB,
    tableSize: 64,
  });
  try {
    const objects: ObjectRef[] = [];
    for (const src of data) {
      const id = store.put(src);
      objects.push({ bytes: src.length, id, sha1: sha1(src) });
      rows.push(...(await getRows(store, id, src.length, 'get', ctx.quick)));
    }
    ctx.log('phase2 get done');
    rows.push(...(await ctx.otherProcess({ kind: 'get', phase: 'phase2', name, objects, quick: ctx.quick })));
    if (store.stats().pinned !== 0) throw new Error('pins left behind after get + release');
  } finally {
    store.close();
    removeSegment(name);
  }
  const OPS = ['memcpy', 'put', 'create_seal', 'get', 'get_release', 'get_other_process', 'get_other_process_release'];
  return rows.sort((a, b) => OPS.indexOf(a.op) - OPS.indexOf(b.op) || a.bytes - b.bytes);
}

async function childGet(req: ChildGetRequest): Promise<Row[]> {
  const store = ObjectStore.open(req.name);
  try {
    const rows: Row[] = [];
    for (const obj of req.objects) {
      const id = obj.id as ObjectId;
      const view = store.get(id);
      const same = view.length === obj.bytes && sha1(view) === obj.sha1;
      store.release(id);
      if (!same) throw new Error(`second process read different bytes for the ${fmtBytes(obj.bytes)} object`);
      rows.push(...(await getRows(store, id, obj.bytes, 'get_other_process', req.quick)));
    }
    return rows;
  } finally {
    store.close();
  }
}

export const phase2Bench: PhaseBench = { phase: 'phase2', run, childGet };
