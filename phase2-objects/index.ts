// Phase 2 harness: the typed TypeScript face of the student's ObjectStore (src/object_store.cc).
//
//   const store = ObjectStore.create('/miniray-demo', { capacity: 1 << 20, tableSize: 1024 });
//   const id = randomObjectId();
//   const view = store.create(id, 5);   // writable, zero-copy, unsealed: invisible to get()
//   view.write('hello');
//   store.seal(id);                     // immutable and visible; wakes gets waiting for it
//   store.release(id);                  // the creator's pin, held since create()
//   store.get(id).toString();           // 'hello', pinned until release(id)
//   store.release(id);
//   store.delete(id);                   // its space is reused by later creates
//
// Every method that takes an id takes it as 40 hex digits (ObjectId) or as its 20 bytes
// (idBytes(id)); the bytes skip parsing the digits on every call (about 50 ns).
//
// Semantics worth knowing (the lesson explains why):
// - Every view this handle holds is pinned: create() pins the new object for its creator (as
//   Plasma does), get() pins what it returns. release(id) gives back one pin; the creator releases
//   after seal(). put() is create + copy + seal + release: it leaves no pin.
// - get() waits for an object that is missing or unsealed, up to timeoutMs (0, the default: do not
//   wait; -1: no limit). When the wait ends without a sealed object it throws ERR_TIMEOUT if the
//   object exists unsealed, ERR_OBJECT_NOT_FOUND if it does not exist.
// - getMany() waits until every id is sealed or the time is up, and returns null for the ids that
//   were not sealed by then; it pins only the objects it returns.
// - getAsync()/getManyAsync() do the same on the libuv thread pool: the event loop keeps running.
//   close() makes them reject with ERR_CLOSED, so even an untimed wait (-1) can be cancelled.
// - release() of an id this handle holds no pin on fails with ERR_INVALID_ARGUMENT (a double
//   release); of an unsealed object, ERR_OBJECT_NOT_SEALED (its creator's pin lasts until seal).
// - delete(id) of a pinned object is REFUSED with ERR_OBJECT_IN_USE (never deferred): release
//   first, then delete. delete() of an unsealed object is ERR_OBJECT_NOT_SEALED (use abort()).
// - Only an object's creator may abort() it (ERR_OBJECT_IN_USE for anyone else).
// - Each handle is a client recorded in the segment with its pid and process start time. close()
//   releases the handle's pins and aborts the objects it created and did not seal; so does
//   collecting a handle that was never closed. What a process that died held, any process gets
//   back: reclaim() does it now, and the store does it by itself when it opens, when a lock's
//   holder died, and before it reports ERR_SHM_FULL or ERR_TABLE_FULL.
import { MiniRayError } from '../lib/errors.js';
import type { IdLike } from '../lib/ids.js';
import { loadAddon } from '../lib/native.js';
import { optionsOf } from '../lib/options.js';
import {
  DEFAULT_LOCK_TIMEOUT_MS,
  StoreHandleBase,
  asBuffer,
  lockTimeoutOf,
  type CheckReportBase,
  type CheckedClientBase,
  type GetOptions,
  type NativeStoreBase,
  type OpenOptions,
  type StoreLayoutBase,
} from '../lib/store.js';

export type { IdLike, ObjectId, ObjectIdBytes } from '../lib/ids.js';
export { idBytes, idHex, objectId, randomObjectId } from '../lib/ids.js';
export { MiniRayError } from '../lib/errors.js';
export { DEFAULT_LOCK_TIMEOUT_MS } from '../lib/store.js';
// Options of open() and get(), and what reclaim() reports (lib/store.ts: phase 4 shares them).
export type { GetOptions, OpenOptions, ReclaimReport } from '../lib/store.js';

export interface CreateOptions {
  // Bytes in the data region (block headers included; rounded up to whole pages). At most the
  // runtime's largest ArrayBuffer (buffer.constants.MAX_LENGTH, 2^32 on Node 20), since every view
  // is a window on one buffer over the data region: ERR_INVALID_ARGUMENT beyond.
  readonly capacity: number;
  // Slots in the object table: at most this many objects at once (default 1024).
  readonly tableSize?: number;
  // How long a lock waits before ERR_LOCK_TIMEOUT (default 5000 ms).
  readonly lockTimeoutMs?: number;
}

export interface ObjectStoreStats {
  readonly segmentSize: number;
  readonly capacity: number; // bytes in the data region
  readonly usedBytes: number; // bytes in allocated blocks, block headers included
  readonly freeBytes: number; // capacity - usedBytes
  readonly largestFree: number; // the largest object create() could hold right now
  readonly freeBlocks: number; // pieces the free space is in (1 when fully coalesced)
  readonly objectCount: number; // unsealed + sealed
  readonly sealedCount: number;
  readonly tableSize: number; // slots
  readonly tableLoad: number; // objectCount / tableSize
  readonly tombstones: number;
  readonly pinned: number; // every pin of every object (gets not released, creators' pins), over all processes
  readonly clients: number; // open handles, over all processes
  readonly lockRecoveries: number;
}

// One open handle, as the segment checker sees it: slot, pid, alive, pins (lib/store.ts), and
export interface CheckedClient extends CheckedClientBase {
  readonly startTime: number;
  readonly unsealed: number; // objects it created and has not sealed
}

// The segment checker's verdict (phase2-objects/layout/checker.h): ok, problems, holderDied,
// repairPending, and what it counted (lib/store.ts), and
export interface CheckReport extends CheckReportBase<CheckedClient> {
  readonly openTransaction: number; // records of an unfinished transaction (checked as undone)
}

// How long the checker waits for the store's lock (default 5000 ms).
export type CheckOptions = OpenOptions;

export type StoreLayout = StoreLayoutBase;

// Where the fields of the segment's fixed format are (phase2-objects/layout/layout.h): byte
// offsets, keyed 'header.<field>', 'entry.<field>', 'block.<field>', 'client.<field>', and sizes.
export type LayoutInfo = Readonly<Record<string, number>>;

interface NativeStore extends NativeStoreBase<ObjectStoreStats, StoreLayout> {
  getMany(ids: readonly IdLike[], timeoutMs: number): Array<Uint8Array | null>;
  getAsync(ids: readonly IdLike[], timeoutMs: number, single: true): Promise<Uint8Array>;
  getAsync(ids: readonly IdLike[], timeoutMs: number, single: false): Promise<Array<Uint8Array | null>>;
  debugLock(): void;
  debugUnlock(): void;
}

interface Phase2Addon {
  create(name: string, capacity: number, tableSize: number, lockTimeoutMs: number): NativeStore;
  open(name: string, lockTimeoutMs: number): NativeStore;
  unlink(name: string): void;
  bucketOf(id: IdLike, tableSize: number): number;
  check(name: string, lockTimeoutMs: number): CheckReport;
  layoutInfo(): LayoutInfo;
}

export const DEFAULT_TABLE_SIZE = 1024;

const addon = (): Phase2Addon => loadAddon<Phase2Addon>('phase2');

// create, seal, abort, put, get, release, contains, delete, stats, reclaim and close are every
// store's (lib/store.ts, StoreHandleBase); here what phase 2's store adds.
export class ObjectStore extends StoreHandleBase<NativeStore, ObjectStoreStats, StoreLayout> {
  private constructor(native: NativeStore, name: string) {
    super(native, name);
  }

  // Creates a new segment; ERR_SEGMENT_EXISTS when the name is taken.
  static create(name: string, options: CreateOptions): ObjectStore {
    const o = optionsOf(options);
    const native = addon().create(
      name,
      o.capacity as number,
      o.tableSize ?? DEFAULT_TABLE_SIZE,
      o.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    );
    return new ObjectStore(native, name);
  }

  // Attaches to an existing segment; ERR_SEGMENT_NOT_FOUND or ERR_LAYOUT_MISMATCH when it cannot.
  // Takes the lock (ERR_LOCK_TIMEOUT while another process holds it) to register the handle as a
  // client, giving back first what clients of dead processes held; ERR_TABLE_FULL when 64 handles
  // are open.
  static open(name: string, options: OpenOptions = {}): ObjectStore {
    return new ObjectStore(addon().open(name, lockTimeoutOf(options)), name);
  }

  // Removes the name from /dev/shm. Processes that have it open keep working.
  static unlink(name: string): void {
    addon().unlink(name);
  }

  // The slot an id's probe path starts at in a table of `tableSize` slots (the given hash): for
  // crafting ids that collide.
  static bucketOf(id: IdLike, tableSize: number): number {
    return addon().bucketOf(id, tableSize);
  }

  // Walks segment `name` and verifies every invariant of the format (the segment checker, also
  // `npm run miniray -- check /name`). Takes the store's lock while it reads.
  static check(name: string, options: CheckOptions = {}): CheckReport {
    return addon().check(name, lockTimeoutOf(options));
  }

  // Byte offsets of the segment's fields, for tests that look inside a segment.
  static layoutInfo(): LayoutInfo {
    return addon().layoutInfo();
  }

  getMany(ids: readonly IdLike[], options: GetOptions = {}): Array<Buffer | null> {
    return this.native.getMany(ids, optionsOf(options).timeoutMs ?? 0).map((v) => (v === null ? null : asBuffer(v)));
  }

  async getAsync(id: IdLike, options: GetOptions = {}): Promise<Buffer> {
    return asBuffer(await this.native.getAsync([id], optionsOf(options).timeoutMs ?? 0, true));
  }

  async getManyAsync(ids: readonly IdLike[], options: GetOptions = {}): Promise<Array<Buffer | null>> {
    const views = await this.native.getAsync(ids, optionsOf(options).timeoutMs ?? 0, false);
    return views.map((v) => (v === null ? null : asBuffer(v)));
  }

  // For tests and the debugger.
  readonly debug = {
    lock: (): void => this.native.debugLock(),
    unlock: (): void => this.native.debugUnlock(),
    layout: (): StoreLayout => this.native.layout(),
  };
}

export function isMiniRayError(e: unknown): e is MiniRayError {
  return e instanceof MiniRayError;
}
