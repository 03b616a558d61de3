// Hidden, checklists 1.1, 1.2 and 1.3: waits seen from a third process. Lock timeouts end on time
// at any phase of the clock's second, readers wait for the lock like writers, and an opener waits
// out a segment that never becomes ready.
import { writeFileSync } from 'node:fs';

import { describe, expect } from 'vitest';

import { expectBounded, holdLockInChild } from '../../../testkit/bounds.js';
import { fixtures, spawnChild } from '../../../testkit/children.js';
import { graded, Severity } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { SHM_DIR } from '../../../testkit/segments.js';
import { checklist } from '../../../phase1-shm/checklist.js';
import { ShmStore } from '../../../phase1-shm/index.js';

const sandbox = useSandbox();
const pub = fixtures<typeof import('../../../phase1-shm/test/fixtures.js')>(new URL('../../../phase1-shm/test/fixtures.ts', import.meta.url));
const lfx = fixtures<typeof import('../../../phase1-shm/test/lock-fixtures.js')>(
  new URL('../../../phase1-shm/test/lock-fixtures.ts', import.meta.url),
);

describe('hidden phase 1: waits from a third process', () => {
  graded(
    checklist.mutex,
    'lock timeouts in a third process end on time whatever the phase of the clock: 999 ms from mid-second, 150 ms from its end, 1000 ms from its start',
    async () => {
      const name = sandbox.segment('phases');
      const store = ShmStore.create(name, { capacity: 4096 });
      const { child: holder, release } = await holdLockInChild(pub, name);
      const third = await spawnChild({ label: 'third' });
      for (const [lockTimeoutMs, phase] of [
        [999, 500],
        [150, 900],
        [1000, 0],
      ] as const) {
        const r = await third.run(lfx, 'timedAt', { name, lockTimeoutMs, phase, op: 'put' });
        expect(r.outcome, `put() with lockTimeoutMs ${lockTimeoutMs} from ${phase} ms into a second: ${r.message}`).toBe('ERR_LOCK_TIMEOUT');
        expect(r.message, 'the message names the holder').toContain(String(holder.pid));
        expectBounded(r.elapsedMs, lockTimeoutMs, `put() from ${phase} ms into a second`);
      }
      await release();
      expect(store.stats().objectCount).toBe(0);
      store.close();
    },
    { weight: Severity.behaviour, timeoutMs: 60_000 },
  );

  graded(
    checklist.putget,
    'get() and stats() in a third process wait for the lock like put(): ERR_LOCK_TIMEOUT while another process holds it',
    async () => {
      const name = sandbox.segment('readers');
      const store = ShmStore.create(name, { capacity: 4096 });
      const id = store.put(Buffer.from('there'));
      const { release } = await holdLockInChild(pub, name);
      const third = await spawnChild({ label: 'reader' });
      for (const op of ['get', 'stats'] as const) {
        const r = await third.run(lfx, 'timedAt', { name, lockTimeoutMs: 200, phase: 0, op, id });
        expect(r.outcome, `${op}() while another process holds the lock`).toBe('ERR_LOCK_TIMEOUT');
        expectBounded(r.elapsedMs, 200, `${op}()`);
      }
      await release();
      expect(store.get(id).toString()).toBe('there');
      store.close();
    },
    { weight: Severity.data, timeoutMs: 60_000 },
  );

  graded(
    checklist.segment,
    'an opener in another process waits out a segment that never becomes ready (all zeros), then ERR_LAYOUT_MISMATCH',
    async () => {
      const name = sandbox.segment('zeros');
      writeFileSync(`${SHM_DIR}${name}`, Buffer.alloc(64 * 1024), { mode: 0o600 });
      const opener = await spawnChild({ label: 'opener' });
      const r = await opener.run(lfx, 'openAndRead', { name, lockTimeoutMs: 500 });
      expect(r.outcome, 'open() of a segment of zeros').toBe('ERR_LAYOUT_MISMATCH');
      expectBounded(r.elapsedMs, 500, 'open()');
    },
    { weight: Severity.behaviour },
  );
});
