// Hidden-suite fixtures for exact accounting after a kill (run inside child processes).
import { closeSync, openSync, writeSync } from 'node:fs';

import type { Fixture } from '../../../testkit/protocol.js';
import { ShmStore } from '../../../phase1-shm/index.js';
import { patternBytes } from '../../../phase1-shm/test/fixtures.js';

// Puts numbered objects (see numberedObject) as fast as it can. After each put() returns it
// appends "<id> <i>" to `record` with a synchronous write, so that after a SIGKILL the file lists
// exactly the puts that returned: the only one unaccounted for is the one in flight.
export const putRecorded: Fixture<{ name: string; size: number; seed: number; record: string }, void> = async (
  { name, size, seed, record },
  ctx,
) => {
  const store = ShmStore.open(name, { lockTimeoutMs: 10_000 });
  const fd = openSync(record, 'a');
  try {
    const data = patternBytes(seed, size);
    await ctx.emit('started');
    for (let i = 0; ; i += 1) {
      data.writeUInt32LE(i, 0);
      const id = store.put(data);
      writeSync(fd, `${id} ${i}\n`);
    }
  } finally {
    closeSync(fd);
    store.close();
  }
};
