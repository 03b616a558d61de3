// Phase 2 in the terms of testkit/addon-safety.ts (the scenarios every phase's glue must survive).
import type { StoreAdapter } from '../../../testkit/addon-safety-fixtures.js';
import type { SegmentViews } from '../../../lib/views.js';
import { ObjectStore, type ObjectId } from '../../../phase2-objects/index.js';

const adapter: StoreAdapter = {
  create: (name, capacity, lockTimeoutMs) =>
    wrap(ObjectStore.create(name, { capacity, tableSize: 64, ...(lockTimeoutMs === undefined ? {} : { lockTimeoutMs }) })),
  open: (name, lockTimeoutMs) => wrap(ObjectStore.open(name, lockTimeoutMs === undefined ? {} : { lockTimeoutMs })),
  unlink: (name) => ObjectStore.unlink(name),
  // Views cover the data region alone, which is at least the capacity.
  oversized: (max) => [max, max + 4096, 2 ** 36],
};

function wrap(store: ObjectStore) {
  return {
    put: (data: Uint8Array) => store.put(data),
    get: (id: string) => store.get(id as ObjectId),
    close: () => store.close(),
    lock: () => store.debug.lock(),
    unlock: () => store.debug.unlock(),
    scratch: () => (store as unknown as { views: SegmentViews }).views.scratch,
  };
}

export default adapter;
