// Phase 2 in the terms of testkit/addon-safety.ts (the scenarios every phase's glue must survive).
import { adaptStore, type StoreAdapter } from '../../../testkit/addon-safety-fixtures.js';
import { ObjectStore } from '../../../phase2-objects/index.js';

const adapter: StoreAdapter = {
  create: (name, capacity, lockTimeoutMs) =>
    adaptStore(ObjectStore.create(name, { capacity, tableSize: 64, ...(lockTimeoutMs === undefined ? {} : { lockTimeoutMs }) })),
  open: (name, lockTimeoutMs) => adaptStore(ObjectStore.open(name, lockTimeoutMs === undefined ? {} : { lockTimeoutMs })),
  unlink: (name) => ObjectStore.unlink(name),
  // Views cover the data region alone, which is at least the capacity.
  oversized: (max) => [max, max + 4096, 2 ** 36],
};

export default adapter;
