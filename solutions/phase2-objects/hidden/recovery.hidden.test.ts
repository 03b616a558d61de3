// Hidden suite, checklist 2.6: recovery that repairs, and is repeated until it has.
import { describe, expect } from 'vitest';

import { fixtures, spawnChild } from '../../../testkit/children.js';
import { Severity, graded } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase2-objects/checklist.js';
import { MiniRayError, ObjectStore } from '../../../phase2-objects/index.js';
import { fieldAt, peek, poke, u32, u64 } from '../../../phase2-objects/test/fixtures.js';

const sandbox = useSandbox();
const item = checklist.stress;
const fx = fixtures<typeof import('../../../phase2-objects/test/fixtures.js')>(
  new URL('../../../phase2-objects/test/fixtures.ts', import.meta.url),
);

function code(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return e instanceof MiniRayError ? e.code : String(e);
  }
}

// A store with two objects whose lock holder is killed half-way through a change: the table's
// live count already says 5, and the journal holds `record` (offset, old value).
async function killedMidChange(name: string, record: readonly [number, number]): Promise<ObjectStore> {
  const store = ObjectStore.create(name, { capacity: 1 << 16, tableSize: 64, lockTimeoutMs: 2000 });
  store.put(Buffer.from('first'));
  store.put(Buffer.from('second'));
  const victim = await spawnChild({ label: 'victim' });
  void victim.run(fx, 'holdLock', { name }).catch(() => undefined);
  await victim.waitEvent('locked');
  poke(name, fieldAt('header.table.live'), u64(5));
  poke(name, fieldAt('header.journal.records'), Buffer.concat([u64(record[0]), u64(record[1])]));
  poke(name, fieldAt('header.journal.count'), u32(1));
  await victim.kill('SIGKILL');
  return store;
}

describe('phase 2 (hidden): recovery', () => {
  graded(
    item,
    'a recovery that fails (a damaged journal) is tried again by every locker until it succeeds; nothing runs on the half-done state meanwhile',
    async () => {
      const name = sandbox.segment('retry');
      // The journal's record names an offset no write may touch: undoing it must fail.
      const store = await killedMidChange(name, [3, 2]);
      expect(code(() => store.stats()), 'the first locker cannot repair').toBe('ERR_SEGMENT_CORRUPT');
      expect(code(() => store.stats()), 'nor can the next: the repair is still owed').toBe('ERR_SEGMENT_CORRUPT');
      expect(code(() => store.put(Buffer.from('x'))), 'no change on a half-done state').toBe('ERR_SEGMENT_CORRUPT');
      // Mended, the journal's record is good: the next locker undoes the change.
      poke(name, fieldAt('header.journal.records'), u64(fieldAt('header.table.live')));
      expect(store.stats().objectCount, 'repaired at last').toBe(2);
      expect(ObjectStore.check(name).problems).toEqual([]);
      store.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    "the checker took the dead holder's lock first: the next store operation still repairs",
    async () => {
      const name = sandbox.segment('checker-first');
      const store = await killedMidChange(name, [fieldAt('header.table.live'), 2]);
      const report = ObjectStore.check(name);
      expect(report.holderDied, 'the checker found the holder dead').toBe(true);
      expect(report.repairPending, 'and left the repair to the store').toBe(true);
      expect(report.problems, 'it checks the state the repair will restore').toEqual([]);
      const s = store.stats();
      expect(s.objectCount, 'the half-done change was undone all the same').toBe(2);
      expect(peek(name, fieldAt('header.journal.count'), 4).readUInt32LE()).toBe(0);
      expect(peek(name, fieldAt('header.repair'), 4).readUInt32LE(), 'the repair is done').toBe(0);
      store.close();
    },
    { weight: Severity.data },
  );
});
