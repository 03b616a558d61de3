// Hidden, checklist 1.4: exact accounting after a process is SIGKILLed in the middle of puts, and
// the store used to the last byte afterwards.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect } from 'vitest';

import { fixtures, spawnChild } from '../../../testkit/children.js';
import { graded, Severity } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase1-shm/checklist.js';
import { ShmStore, type ObjectId } from '../../../phase1-shm/index.js';
import { numberedObject } from './fixtures.js';

const sandbox = useSandbox();
const fx = fixtures<typeof import('./accounting-fixtures.js')>(new URL('./accounting-fixtures.ts', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function records(file: string): Array<{ id: ObjectId; i: number }> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => /^[0-9a-f]{40} \d+$/.test(l))
    .map((l) => {
      const [id, i] = l.split(' ');
      return { id: id as ObjectId, i: Number(i) };
    });
}

describe('hidden phase 1: accounting after a kill', () => {
  graded(
    checklist.multiprocess,
    'a putter SIGKILLed mid-put, three times: the count is the puts that returned plus at most the one in flight, every returned object is intact, and every byte is still usable',
    async () => {
      const size = 64 * 1024;
      for (let round = 0; round < 3; round += 1) {
        const name = sandbox.segment(`killed-putter-${round}`);
        const record = join(tmpdir(), `miniray-record-${process.pid}-${round}.txt`);
        rmSync(record, { force: true });
        const store = ShmStore.create(name, { capacity: 256 << 20, maxObjects: 8192, lockTimeoutMs: 5000 });
        try {
          const putter = await spawnChild({ label: 'putter' });
          let stopped = false; // the putter's loop ended by itself (a put threw)
          void putter
            .run(fx, 'putRecorded', { name, size, seed: 40 + round, record }, 60_000)
            .catch(() => undefined)
            .finally(() => (stopped = true));
          await putter.waitEvent('started');
          // Kill it once it has made some puts: most of its time is spent inside put().
          const deadline = Date.now() + 20_000;
          while (records(record).length < 10 && !stopped && Date.now() < deadline) await sleep(1);
          await putter.kill('SIGKILL');
          const returned = records(record);
          expect(returned.length, 'the putter made progress before it was killed').toBeGreaterThanOrEqual(10);

          const s = store.stats();
          const slot = Math.ceil(size / 64) * 64;
          expect(s.objectCount, `round ${round}: ${returned.length} puts returned; the count may add only the one in flight`).toBeGreaterThanOrEqual(returned.length);
          expect(s.objectCount, `round ${round}: ${returned.length} puts returned; the count may add only the one in flight`).toBeLessThanOrEqual(returned.length + 1);
          expect([s.objectCount * slot, (s.objectCount + 1) * slot], `round ${round}: used bytes account for the counted objects (and at most the one in flight)`).toContain(s.usedBytes);
          expect(s.lockRecoveries, 'one kill, at most one takeover').toBeLessThanOrEqual(1);
          for (const r of returned) {
            expect(store.get(r.id).equals(numberedObject(40 + round, size, r.i)), `round ${round}: object ${r.i}, whose put returned`).toBe(true);
          }
          // The store is whole: it takes objects up to its last byte, and not one more.
          const after = store.put(Buffer.from('after the kill'));
          expect(store.get(after).toString()).toBe('after the kill');
          const rest = s.capacity - store.stats().usedBytes;
          const tail = store.put(Buffer.alloc(rest, 0x5c));
          expect(store.get(tail).equals(Buffer.alloc(rest, 0x5c)), 'the remaining bytes hold one last object').toBe(true);
          expect(() => store.put(Buffer.alloc(1)), 'then the store is full').toThrowMiniRay('ERR_SHM_FULL');
        } finally {
          store.close();
          ShmStore.unlink(name);
          rmSync(record, { force: true });
        }
      }
    },
    { weight: Severity.data, timeoutMs: 90_000 },
  );
});
