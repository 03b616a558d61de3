// Phase 2 component harness: the student's ObjectTable (src/object_table.cc) and Allocator
// (src/allocator.cc) on their own, before any ObjectStore exists (checklist items 2.1 and 2.2).
//
//   const bench = ComponentBench.create('/miniray-parts', { slots: 16, dataBytes: 64 * 1024 });
//   bench.table.init();
//   const slot = bench.table.insert(id);     // in a journal transaction, committed
//   bench.table.find(id);                    // the same slot; -1 once erased
//   bench.allocator.init();
//   const payload = bench.allocator.allocate(100);
//   bench.allocator.blocks();                // every block header, as the segment holds them
//   bench.close();
//
// The bench is a real segment laid out exactly as a store's (layout/layout.h): one process, no
// lock, no client records. Every change runs in a journal transaction as ObjectStore runs it;
// `{ commit: false }` undoes the transaction instead of committing it, which leaves the segment
// exactly as it was only if every write went through the journal. slot(), tableStats(),
// allocatorStats() and blocks() read the segment directly, not through your code.
import type { ObjectId } from '../lib/ids.js';
import { loadAddon } from '../lib/native.js';

export type { ObjectId } from '../lib/ids.js';

// SlotState in layout.h.
export const SlotState = { empty: 0, tombstone: 1, unsealed: 2, sealed: 3 } as const;

export interface BenchOptions {
  // Slots in the table (1 .. 2^22).
  readonly slots: number;
  // Bytes in the data region, at least (rounded up so the segment is whole pages).
  readonly dataBytes: number;
}

export interface ChangeOptions {
  // false: undo the transaction instead of committing it (default true).
  readonly commit?: boolean;
}

export interface SlotView {
  readonly state: number; // a SlotState
  readonly id: string; // the 40 hex digits in the slot, whatever its state
}

export interface TableCounters {
  readonly offset: number; // TableHeader::offset as stored
  readonly slots: number; // TableHeader::slots as stored
  readonly live: number;
  readonly tombstones: number;
  readonly lastProbes: number; // slots the last find() or insert() looked at
  readonly tableOffset: number; // where the table belongs: TableOffset()
}

export interface AllocatorCounters {
  readonly begin: number; // AllocatorHeader fields as stored
  readonly end: number;
  readonly freeHead: number;
  readonly usedBytes: number;
  readonly freeBlocks: number;
  readonly largestFree: number; // Allocator::LargestFree()
  readonly dataOffset: number; // where the data region belongs: DataOffset(slots)
  readonly segmentSize: number; // where it ends
}

export interface BlockView {
  readonly offset: number; // the header's segment offset (the payload starts 64 bytes later)
  readonly size: number; // header included
  readonly prevSize: number;
  readonly free: number; // 1 free, 0 allocated
  readonly magicOk: boolean;
}

export interface BlockWalk {
  // Every block from the region's start, following each header's size.
  readonly blocks: readonly BlockView[];
  // The free list's headers in list order, from AllocatorHeader::free_head.
  readonly freeList: readonly number[];
  // Why a walk stopped early ('' when both walks ended normally).
  readonly broken: string;
}

export type GeometryField = 'table.offset' | 'table.slots' | 'allocator.begin' | 'allocator.end';

interface NativeBench {
  initTable(slots: number | undefined): void;
  checkTable(): void;
  insert(id: string, commit: boolean): number;
  find(id: string): number;
  erase(id: string, commit: boolean): void;
  tidy(): void;
  slot(index: number): SlotView;
  tableStats(): TableCounters;
  initAllocator(): void;
  checkAllocator(): void;
  allocate(size: number, commit: boolean): number;
  free(payload: number, commit: boolean): void;
  allocatorStats(): AllocatorCounters;
  blocks(): BlockWalk;
  poke(field: GeometryField, value: number): void;
}

interface ComponentsAddon {
  ComponentBench: { create(name: string, slots: number, dataBytes: number): NativeBench };
  bucketOf(id: string, slots: number): number;
}

const addon = (): ComponentsAddon => loadAddon<ComponentsAddon>('phase2');

export class ComponentBench {
  private native: NativeBench | undefined;

  private constructor(native: NativeBench) {
    this.native = native;
  }

  // A fresh segment (its name is removed at once: nothing is left in /dev/shm), all zeroes.
  static create(name: string, options: BenchOptions): ComponentBench {
    return new ComponentBench(addon().ComponentBench.create(name, options.slots, options.dataBytes));
  }

  // ObjectTable::HomeSlot(id, slots): where id's probe path starts.
  static homeSlot(id: ObjectId, slots: number): number {
    return addon().bucketOf(id, slots);
  }

  private get n(): NativeBench {
    if (this.native === undefined) throw new Error('ComponentBench is closed');
    return this.native;
  }

  readonly table = {
    // ObjectTable::Init(TableOffset(), slots); `slots` other than the bench's tests Init's checks.
    init: (slots?: number): void => this.n.initTable(slots),
    // A new ObjectTable over the same segment runs Check(), as an opening process does; the
    // bench uses it from then on.
    check: (): void => this.n.checkTable(),
    // ObjectTable::Insert in a transaction: the new entry's slot index.
    insert: (id: ObjectId, options: ChangeOptions = {}): number => this.n.insert(id, options.commit ?? true),
    // ObjectTable::Find: the slot index of the live entry, or -1.
    find: (id: ObjectId): number => this.n.find(id),
    // ObjectTable::Erase of the live entry holding id, in a transaction.
    erase: (id: ObjectId, options: ChangeOptions = {}): void => this.n.erase(id, options.commit ?? true),
    // ObjectTable::Tidy
    tidy: (): void => this.n.tidy(),
    slot: (index: number): SlotView => this.n.slot(index),
    stats: (): TableCounters => this.n.tableStats(),
  };

  readonly allocator = {
    // Allocator::Init(DataOffset(slots), end of segment)
    init: (): void => this.n.initAllocator(),
    // A new Allocator over the same segment runs Check(); the bench uses it from then on.
    check: (): void => this.n.checkAllocator(),
    // Allocator::Allocate in a transaction: the payload's segment offset.
    allocate: (size: number, options: ChangeOptions = {}): number => this.n.allocate(size, options.commit ?? true),
    // Allocator::Free in a transaction.
    free: (payload: number, options: ChangeOptions = {}): void => this.n.free(payload, options.commit ?? true),
    stats: (): AllocatorCounters => this.n.allocatorStats(),
    blocks: (): BlockWalk => this.n.blocks(),
  };

  // Writes `value` into one geometry word of the header, as a hostile process could.
  poke(field: GeometryField, value: number): void {
    this.n.poke(field, value);
  }

  // Drops the mapping once the collector frees the native object; the bench is unusable after.
  close(): void {
    this.native = undefined;
  }
}
