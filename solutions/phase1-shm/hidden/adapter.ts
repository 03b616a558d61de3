// Phase 1 in the terms of testkit/addon-safety.ts (the scenarios every phase's glue must survive).
import { adaptStore, type StoreAdapter } from '../../../testkit/addon-safety-fixtures.js';
import { ShmStore } from '../../../phase1-shm/index.js';

const adapter: StoreAdapter = {
  create: (name, capacity, lockTimeoutMs) => adaptStore(ShmStore.create(name, { capacity, ...(lockTimeoutMs === undefined ? {} : { lockTimeoutMs }) })),
  open: (name, lockTimeoutMs) => adaptStore(ShmStore.open(name, lockTimeoutMs === undefined ? {} : { lockTimeoutMs })),
  unlink: (name) => ShmStore.unlink(name),
  // The view covers the whole segment, so a data region just under the limit is refused as well:
  // the table pushes the mapping over it.
  oversized: (max) => [max, max + 4096, 2 ** 36, max - 4096],
};

export default adapter;
