// Hidden-suite fixtures for exact accounting after a kill (run inside child processes).
import { closeSync, openSync, writeSync } from 'node:fs';

import type { Fixture } from '../../../testkit/protocol.js';
import { ObjectStore, type ObjectId } from '../../../phase2-objects/index.js';
import { checkedObject } from '../../../phase2-objects/test/fixtures.js';

// Puts self-checking objects as fast as it can; after each put returns it
// appends "<id>" to `record` with a synchronous write, so that after a SIGKILL the file lists exactly
// the puts that returned. Every `abortEvery`-th object is created and aborted instead.
export const putRecorded: Fixture<{ name: string; size: number; record: string; abortEvery: number }, void> = async (
  { name, size, record, abortEvery },
  ctx,
) => {
  const store = ObjectStore.open(name, { lockTimeoutMs: 10_000 });
  const fd = openSync(record, 'a');
  try {
    await ctx.emit('started');
    for (let i = 1; ; i += 1) {
      const id = `${i.toString(16).padStart(8, '0')}${'c'.repeat(32)}` as ObjectId;
      const data = checkedObject(i, size);
      if (i % abortEvery === 0) {
        store.create(id, size);
        store.abort(id);
        continue;
      }
      store.put(data, id);
      writeSync(fd, `${id}\n`);
    }
  } finally {
    closeSync(fd);
    store.close();
  }
};

// Deletes `ids` in order as fast as it can, appending each id to `record` once its delete returned.
export const deleteRecorded: Fixture<{ name: string; ids: readonly ObjectId[]; record: string }, void> = async ({ name, ids, record }, ctx) => {
  const store = ObjectStore.open(name, { lockTimeoutMs: 10_000 });
  const fd = openSync(record, 'a');
  try {
    await ctx.emit('started');
    for (const id of ids) {
      store.delete(id);
      writeSync(fd, `${id}\n`);
    }
  } finally {
    closeSync(fd);
    store.close();
  }
};
