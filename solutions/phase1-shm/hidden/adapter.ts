// Phase 1 in the terms of testkit/addon-safety.ts (the scenarios every phase's glue must survive).
import type { StoreAdapter } from '../../../testkit/addon-safety-fixtures.js';
import type { SegmentViews } from '../../../lib/views.js';
import { ShmStore, type ObjectId } from '../../../phase1-shm/index.js';

const adapter: StoreAdapter = {
  create: (name, capacity, lockTimeoutMs) => wrap(ShmStore.create(name, { capacity, ...(lockTimeoutMs === undefined ? {} : { lockTimeoutMs }) })),
  open: (name, lockTimeoutMs) => wrap(ShmStore.open(name, lockTimeoutMs === undefined ? {} : { lockTimeoutMs })),
  unlink: (name) => ShmStore.unlink(name),
  // The view covers the whole segment (header and table too), so a data region just under the
  // limit is refused as well: the table pushes the mapping over it.
  oversized: (max) => [max, max + 4096, 2 ** 36, max - 4096],
};

function wrap(store: ShmStore) {
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
