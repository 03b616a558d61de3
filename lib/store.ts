// What the object stores' harnesses share (phase2-objects/index.ts and phase4-optimize/index.ts):
// the option bags, the reports every store gives, and the get fast path.
import type { IdLike } from './ids.js';
import { optionsOf } from './options.js';
import type { SegmentViews, ViewSource } from './views.js';

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
