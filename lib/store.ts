// What the object stores' harnesses share (phase2-objects/index.ts and phase4-optimize/index.ts):
// the option bags, the reports every store gives, the get fast path, and the methods every store's
// handle has (StoreHandleBase).
import { randomObjectId, type IdLike, type ObjectId, type ObjectIdBytes } from './ids.js';
import { optionsOf } from './options.js';
import { SegmentViews, type ViewSource } from './views.js';

// How long a lock waits before ERR_LOCK_TIMEOUT, unless an option says otherwise.
export const DEFAULT_LOCK_TIMEOUT_MS = 5000;

export interface OpenOptions {
  // How long a lock waits before ERR_LOCK_TIMEOUT (default 5000 ms).
  readonly lockTimeoutMs?: number;
}

export interface GetOptions {
  // 0 (default): do not wait; -1: wait without a limit; otherwise milliseconds.
  readonly timeoutMs?: number;
}

// What reclaim() gave back: the records of dead processes' handles, their pins, and the objects
// they had created and not sealed (aborted).
export interface ReclaimReport {
  readonly clients: number;
  readonly pins: number;
  readonly objects: number;
}

// One open handle, as the segment checker sees it.
export interface CheckedClientBase {
  readonly slot: number;
  readonly pid: number;
  readonly alive: boolean; // its process still runs
  readonly pins: number;
}

// What every store's segment checker reports (its layout/checker.h): every invariant of the format
// that does not hold, one sentence each, and what it counted.
export interface CheckReportBase<Client extends CheckedClientBase = CheckedClientBase> {
  readonly ok: boolean;
  readonly problems: readonly string[];
  readonly holderDied: boolean; // a lock's last holder died holding it
  readonly repairPending: boolean; // the next store operation will repair (nothing else was checked)
  readonly slots: number;
  readonly objects: number;
  readonly sealed: number;
  readonly tombstones: number;
  readonly capacity: number;
  readonly blocks: number;
  readonly freeBlocks: number;
  readonly usedBytes: number;
  readonly pinned: number;
  readonly clients: readonly Client[];
}

// Where a handle's segment is laid out (debug.layout()).
export interface StoreLayoutBase {
  readonly segmentSize: number;
  readonly tableOffset: number;
  readonly tableBytes: number;
  readonly dataOffset: number;
  readonly dataBytes: number;
  readonly client: number; // this handle's client record
}

export const lockTimeoutOf = (options: OpenOptions | undefined): number => optionsOf(options).lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;

// A Buffer over the same bytes as a view the glue made.
export const asBuffer = (view: Uint8Array): Buffer => Buffer.from(view.buffer, view.byteOffset, view.byteLength);

// The glue's get path: locate(id[, timeoutMs]) pins the object and writes where it is into the
// location slots; no timeout is a poll.
export interface LocatingStore extends ViewSource {
  locate(id: IdLike, timeoutMs?: number): void;
}

// get(): locate, then a view made in JavaScript over the one mapping (lib/views.ts). No options is
// the common case and reads nothing; a timeout of 0 leaves the glue's second argument out.
export function locatedView(native: LocatingStore, views: SegmentViews, id: IdLike, options: GetOptions | undefined): Buffer {
  const timeoutMs = options === undefined ? 0 : (optionsOf(options).timeoutMs ?? 0);
  if (timeoutMs === 0) native.locate(id);
  else native.locate(id, timeoutMs);
  return views.located();
}

// What the glue of every object store gives a handle (native-common's store_wrap.h and
// store_handle.h); a phase's addon adds its own methods.
export interface NativeStoreBase<Stats, Layout extends StoreLayoutBase> extends LocatingStore {
  create(id: IdLike, size: number): Uint8Array;
  seal(id: IdLike): void;
  abort(id: IdLike): void;
  put(id: IdLike, data: Uint8Array): void;
  release(id: IdLike): void;
  contains(id: IdLike): boolean;
  delete(id: IdLike): void;
  stats(): Stats;
  reclaim(): ReclaimReport;
  close(): void;
  layout(): Layout;
}

// One open handle of an object store: the lifecycle every store has (phase 2's, which phase 4
// keeps). A phase's ObjectStore extends it with its own constructors, gets and debug calls. Every
// method that takes an id takes it as 40 hex digits (ObjectId) or as its 20 bytes (idBytes(id)).
export abstract class StoreHandleBase<Native extends NativeStoreBase<Stats, Layout>, Stats, Layout extends StoreLayoutBase> {
  // get() hands out windows on the one mapping.
  protected readonly views: SegmentViews;

  protected constructor(
    protected readonly native: Native,
    readonly name: string,
  ) {
    this.views = new SegmentViews(native);
  }

  // A new unsealed object of `size` bytes, pinned by this handle; write its contents through the
  // returned view, seal(id), and release(id) once you no longer read the view.
  // ERR_OBJECT_EXISTS, ERR_SHM_FULL, ERR_TABLE_FULL.
  create(id: IdLike, size: number): Buffer {
    return asBuffer(this.native.create(id, size));
  }

  // Makes an unsealed object immutable and visible. ERR_OBJECT_NOT_FOUND, ERR_OBJECT_SEALED.
  seal(id: IdLike): void {
    this.native.seal(id);
  }

  // Drops an unsealed object this handle created. ERR_OBJECT_NOT_FOUND, ERR_OBJECT_SEALED,
  // ERR_OBJECT_IN_USE (another handle created it).
  abort(id: IdLike): void {
    this.native.abort(id);
  }

  // create + copy + seal + release, all or nothing: when it throws, nothing was stored. Returns
  // the id (a fresh random one unless given), in the form it was given.
  put(data: Uint8Array, id?: ObjectId): ObjectId;
  put(data: Uint8Array, id: ObjectIdBytes): ObjectIdBytes;
  put(data: Uint8Array, id: IdLike = randomObjectId()): IdLike {
    this.native.put(id, data);
    return id;
  }

  // A pinned, zero-copy view of a sealed object: one id, one lock, a view made in JavaScript over
  // the one mapping. Waits up to options.timeoutMs for an object missing or unsealed.
  get(id: IdLike, options?: GetOptions): Buffer {
    return locatedView(this.native, this.views, id, options);
  }

  // Unpins one get() of this handle, or the creator's pin after seal(). ERR_INVALID_ARGUMENT when
  // this handle holds no pin on `id`, ERR_OBJECT_NOT_SEALED before seal().
  release(id: IdLike): void {
    this.native.release(id);
  }

  // True when the object exists and is sealed.
  contains(id: IdLike): boolean {
    return this.native.contains(id);
  }

  // Removes a sealed object. ERR_OBJECT_IN_USE while pinned (refused, not deferred),
  // ERR_OBJECT_NOT_SEALED, ERR_OBJECT_NOT_FOUND.
  delete(id: IdLike): void {
    this.native.delete(id);
  }

  stats(): Stats {
    return this.native.stats();
  }

  // Gives back what handles of processes that died held: their pins, their unsealed objects.
  reclaim(): ReclaimReport {
    return this.native.reclaim();
  }

  // Cancels this handle's waiting gets (ERR_CLOSED), releases its pins, aborts the objects it
  // created and did not seal, and detaches. Buffers returned earlier stay readable.
  close(): void {
    this.native.close();
    this.views.release();
  }
}
