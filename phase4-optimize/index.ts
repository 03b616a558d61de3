// Phase 4 harness: the typed TypeScript face of the student's ObjectStore (src/object_store.cc):
// phase 2's store with striped locks, a pool for small objects and LRU eviction.
//
//   const store = ObjectStore.create('/miniray-demo', { capacity: 1 << 20, stripes: 16 });
//   const id = store.put(Buffer.from('hello'));    // a 64-byte slot of the pool
//   store.get(id).toString();                       // 'hello', pinned: never evicted while pinned
//   store.release(id);                              // unpinned: joins the LRU list
//   ... creates that do not fit evict the least recently released objects ...
//   store.contains(id);                             // false once evicted
//   store.evictedSince(0).ids;                      // [id, ...]: missing because evicted
//
// The lifecycle and its errors are phase 2's (phase2-objects/index.ts explains them). New here:
// - create() evicts sealed objects nobody pins, least recently released first, until the new one
//   fits; ERR_SHM_FULL only when the rest is pinned or being created. If even evicting every
//   evictable object could not make room, nothing is evicted.
// - Recency: an object joins the LRU list when its last pin is released (in any process) and
//   leaves it when it is pinned again.
// - evictedSince(n) lists the ids evicted since the eviction count was n (the last 64 at most).
// - stats() adds the pool (slabs, slots, fragmentation), eviction counts, and each lock's
//   contention counters.
import type { IdLike, ObjectId } from '../lib/ids.js';
import { loadAddon } from '../lib/native.js';
import { optionsOf } from '../lib/options.js';
import {
  DEFAULT_LOCK_TIMEOUT_MS,
  StoreHandleBase,
  asBuffer,
  lockTimeoutOf,
  type CheckReportBase,
  type GetOptions,
  type NativeStoreBase,
  type OpenOptions,
  type StoreLayoutBase,
} from '../lib/store.js';

export type { IdLike, ObjectId, ObjectIdBytes } from '../lib/ids.js';
export { idBytes, idHex, objectId, randomObjectId } from '../lib/ids.js';
export { MiniRayError } from '../lib/errors.js';
export { DEFAULT_LOCK_TIMEOUT_MS } from '../lib/store.js';
// Options of open() and get(), and what reclaim() reports: phase 2's (lib/store.ts).
export type { GetOptions, OpenOptions, ReclaimReport } from '../lib/store.js';

export interface CreateOptions {
  // Bytes in the data region (block headers and slabs included; rounded up to whole pages).
  readonly capacity: number;
  // Stripes of the object table, each with its own lock: a power of two, 1..64 (default 16).
  readonly stripes?: number;
  // Slots per stripe (default 64): at most stripes * slotsPerStripe objects, fewer if ids crowd
  // one stripe.
  readonly slotsPerStripe?: number;
  readonly lockTimeoutMs?: number;
}

// One lock's contention counters.
export interface LockStats {
  readonly acquisitions: number;
  readonly contended: number; // found busy at the first try
  readonly waitNs: number; // time spent waiting, over the contended acquisitions
  readonly tryFailures: number; // out-of-order try-locks (eviction) that found it busy
}

export interface PoolStats {
  readonly slabs: number; // slabs held now
  readonly usedSlots: number;
  readonly slotBytes: number; // bytes of the slots in use (each slot counts its class's size)
  readonly freeSlotBytes: number; // free slots inside held slabs: the pool's fragmentation
  readonly allocations: number; // small allocations served, ever
  readonly newSlabs: number; // slabs taken from the free list, ever
  readonly freedSlabs: number; // empty slabs given back, ever
}

export interface ObjectStoreStats {
  readonly segmentSize: number;
  readonly capacity: number;
  readonly usedBytes: number;
  readonly freeBytes: number;
  readonly largestFree: number;
  readonly freeBlocks: number;
  readonly objectCount: number;
  readonly sealedCount: number;
  readonly tableSize: number;
  readonly stripes: number;
  readonly tombstones: number;
  readonly pinned: number;
  readonly clients: number;
  readonly evictable: number; // objects on the LRU list
  readonly evictableBytes: number;
  readonly evictions: number;
  readonly evictedBytes: number;
  readonly pool: PoolStats;
  readonly locks: { readonly stripes: readonly LockStats[]; readonly allocator: LockStats; readonly lru: LockStats };
  readonly lockOrderViolations: number;
  readonly lockRecoveries: number;
  readonly repairs: number;
}

export interface EvictionReport {
  readonly ids: readonly ObjectId[]; // oldest first
  readonly now: number; // pass it as `since` next time
  readonly lost: number; // evictions since `since` that fell out of the log
}

export interface StoreLayout extends StoreLayoutBase {
  readonly stripes: number;
  readonly slotsPerStripe: number;
}

// The segment checker's report (phase4-optimize/layout/checker.h): phase 2's (lib/store.ts), and
export interface CheckReport extends CheckReportBase {
  readonly stripes: number;
  readonly slabs: number;
  readonly poolSlots: number;
  readonly lru: number;
}

// Which lock a test holds: a stripe, the allocator's, the LRU list's.
export type LockRef = { readonly stripe: number } | 'allocator' | 'lru';

interface NativeStore extends NativeStoreBase<ObjectStoreStats, StoreLayout> {
  getAsync(id: IdLike, timeoutMs: number): Promise<Uint8Array>;
  evictedSince(since: number): EvictionReport;
  repair(): void;
  debugLock(kind: number, stripe: number): void;
  debugUnlock(kind: number, stripe: number): void;
}

interface Phase4Addon {
  create(name: string, capacity: number, stripes: number, slotsPerStripe: number, lockTimeoutMs: number): NativeStore;
  open(name: string, lockTimeoutMs: number): NativeStore;
  unlink(name: string): void;
  stripeOf(id: IdLike, stripes: number): number;
  sizeClassOf(size: number): number;
  homeSlotOf(id: IdLike, slotsPerStripe: number): number;
  check(name: string, lockTimeoutMs: number): CheckReport;
}

export const DEFAULT_STRIPES = 16;
export const DEFAULT_SLOTS_PER_STRIPE = 64;
// The pool's size classes: 64 << c bytes for c = 0..6; larger objects come from the free list.
export const SIZE_CLASSES = [64, 128, 256, 512, 1024, 2048, 4096] as const;
export const SLAB_BYTES = 64 * 1024;
export const EVICTION_LOG = 64;

const addon = (): Phase4Addon => loadAddon<Phase4Addon>('phase4');

const lockArgs = (lock: LockRef): [number, number] =>
  lock === 'allocator' ? [1, 0] : lock === 'lru' ? [2, 0] : [0, lock.stripe];

// create, seal, abort, put, get, release, contains, delete, stats, reclaim and close are every
// store's (lib/store.ts, StoreHandleBase), as in phase 2; here what phase 4's store adds.
export class ObjectStore extends StoreHandleBase<NativeStore, ObjectStoreStats, StoreLayout> {
  private constructor(native: NativeStore, name: string) {
    super(native, name);
  }

  static create(name: string, options: CreateOptions): ObjectStore {
    const o = optionsOf(options);
    const native = addon().create(
      name,
      o.capacity as number,
      o.stripes ?? DEFAULT_STRIPES,
      o.slotsPerStripe ?? DEFAULT_SLOTS_PER_STRIPE,
      o.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    );
    return new ObjectStore(native, name);
  }

  static open(name: string, options: OpenOptions = {}): ObjectStore {
    return new ObjectStore(addon().open(name, lockTimeoutOf(options)), name);
  }

  static unlink(name: string): void {
    addon().unlink(name);
  }

  // The segment checker (given): takes every lock in order, walks the segment's bytes and reports
  // every invariant that does not hold. `npm run miniray -- check NAME` prints it.
  static check(name: string, options: OpenOptions = {}): CheckReport {
    return addon().check(name, lockTimeoutOf(options));
  }

  // The stripe an id belongs to in a store of `stripes` stripes (the given hash).
  static stripeOf(id: IdLike, stripes: number): number {
    return addon().stripeOf(id, stripes);
  }

  // The slot of its stripe where `id`'s probe starts (the given hash): for crafting ids that collide.
  static homeSlotOf(id: IdLike, slotsPerStripe: number): number {
    return addon().homeSlotOf(id, slotsPerStripe);
  }

  // The pool's size class for `size` bytes (SIZE_CLASSES index), or 7 when the free list serves it.
  static sizeClassOf(size: number): number {
    return addon().sizeClassOf(size);
  }

  async getAsync(id: IdLike, options: GetOptions = {}): Promise<Buffer> {
    return asBuffer(await this.native.getAsync(id, optionsOf(options).timeoutMs ?? 0));
  }

  // The ids evicted since the eviction count was `since` (0: since the store was made).
  evictedSince(since = 0): EvictionReport {
    return this.native.evictedSince(since);
  }

  readonly debug = {
    lock: (lock: LockRef): void => this.native.debugLock(...lockArgs(lock)),
    unlock: (lock: LockRef): void => this.native.debugUnlock(...lockArgs(lock)),
    // Takes every lock in order and repairs; on a sound segment it changes nothing.
    repair: (): void => this.native.repair(),
    layout: (): StoreLayout => this.native.layout(),
  };
}
