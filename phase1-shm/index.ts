// Phase 1 harness: the typed TypeScript face of the student's ShmStore (src/shm_store.cc).
//
//   const store = ShmStore.create('/miniray-demo', { capacity: 1 << 20 });
//   const id = store.put(Buffer.from('hello'));
//   store.get(id).toString();   // 'hello', read in place from shared memory
import { MiniRayError } from '../lib/errors.js';
import type { IdLike, ObjectId } from '../lib/ids.js';
import { loadAddon } from '../lib/native.js';
import { optionsOf } from '../lib/options.js';
import { SegmentViews, type ViewSource } from '../lib/views.js';

export type { IdLike, ObjectId, ObjectIdBytes } from '../lib/ids.js';
export { idBytes, idHex } from '../lib/ids.js';
export { MiniRayError } from '../lib/errors.js';

export interface CreateOptions {
  // Bytes in the data region.
  readonly capacity: number;
  // Entries in the metadata table (default 1024).
  readonly maxObjects?: number;
  // How long a lock waits before ERR_LOCK_TIMEOUT (default 5000 ms).
  readonly lockTimeoutMs?: number;
}

export interface OpenOptions {
  readonly lockTimeoutMs?: number;
}

export interface ShmStats {
  readonly segmentSize: number;
  readonly capacity: number;
  readonly usedBytes: number;
  readonly freeBytes: number;
  readonly objectCount: number;
  readonly maxObjects: number;
  readonly lockRecoveries: number;
}

interface NativeStore extends ViewSource {
  put(data: Uint8Array): string;
  locate(id: IdLike): void;
  stats(): ShmStats;
  close(): void;
  debugLock(): void;
  debugUnlock(): void;
}

interface Phase1Addon {
  create(name: string, capacity: number, maxObjects: number | undefined, lockTimeoutMs: number): NativeStore;
  open(name: string, lockTimeoutMs: number): NativeStore;
  unlink(name: string): void;
}

export const DEFAULT_LOCK_TIMEOUT_MS = 5000;

const addon = (): Phase1Addon => loadAddon<Phase1Addon>('phase1');

export class ShmStore {
  // get() hands out windows on the one mapping.
  private readonly views: SegmentViews;

  private constructor(
    private readonly native: NativeStore,
    readonly name: string,
  ) {
    this.views = new SegmentViews(native);
  }

  // Creates a new segment; ERR_SEGMENT_EXISTS when the name is taken.
  static create(name: string, options: CreateOptions): ShmStore {
    const o = optionsOf(options);
    const native = addon().create(
      name,
      o.capacity as number,
      o.maxObjects,
      o.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
    );
    return new ShmStore(native, name);
  }

  // Attaches to an existing segment; ERR_SEGMENT_NOT_FOUND or ERR_LAYOUT_MISMATCH when it cannot.
  static open(name: string, options: OpenOptions = {}): ShmStore {
    return new ShmStore(addon().open(name, optionsOf(options).lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS), name);
  }

  // Removes the name from /dev/shm. Processes that have it open keep working.
  static unlink(name: string): void {
    addon().unlink(name);
  }

  // Copies `data` into the segment and returns its new id.
  put(data: Uint8Array): ObjectId {
    return this.native.put(data) as ObjectId;
  }

  // The object's bytes as a Buffer that views shared memory directly (no copy). The id may be
  // given as its 20 bytes (idBytes(id)), which skips parsing 40 hex digits on every call.
  get(id: IdLike): Buffer {
    this.native.locate(id);
    return this.views.located();
  }

  stats(): ShmStats {
    return this.native.stats();
  }

  // Detaches this handle: releases the lock if this thread holds it (debug.lock()), and unmaps the
  // segment once no Buffer returned by get() is reachable any more. Those Buffers stay readable.
  close(): void {
    this.native.close();
    this.views.release();
  }

  // For tests and the debugger: hold the segment's lock without doing anything.
  readonly debug = {
    lock: (): void => this.native.debugLock(),
    unlock: (): void => this.native.debugUnlock(),
  };
}

export function isMiniRayError(e: unknown): e is MiniRayError {
  return e instanceof MiniRayError;
}
