// A sealer killed around its seal, while another process waits for the object: a committed seal
// has always woken its waiters (no waiter sleeps out its timeout), and an uncommitted one is undone
// (no waiter sees it).
import { afterEach, describe, expect, test } from 'vitest';

import { waitUntilAsleep } from '../../../testkit/asleep.js';
import { fixtures, killAllChildren, spawnChild } from '../../../testkit/children.js';
import { patternBytes, sha1 } from '../../../testkit/data.js';
import { removeTrackedSegments, uniqueSegmentName } from '../../../testkit/segments.js';
import { ObjectStore } from '../../../phase2-objects/index.js';
import { crashAddon, fixedId } from './scenarios.js';

const fx = fixtures<typeof import('../../../phase2-objects/test/fixtures.js')>(
  new URL('../../../phase2-objects/test/fixtures.ts', import.meta.url),
);

afterEach(async () => {
  await killAllChildren();
  removeTrackedSegments();
});

async function sealerKilledAt(point: string, waitMs: number) {
  const name = uniqueSegmentName('wake');
  const store = ObjectStore.create(name, { capacity: 1 << 16 });
  const id = fixedId('wake', 1);
  const data = patternBytes(5, 3000);
  const waiter = await spawnChild({ label: 'waiter' });
  const waiting = waiter.run(fx, 'waitGet', { name, id, timeoutMs: waitMs, mode: 'sync', release: true }, waitMs + 10_000);
  await waiter.waitEvent('waiting');
  await waitUntilAsleep(waiter.pid, name);
  const r = crashAddon().trial(name, [{ op: 'create', id, data }, { op: 'seal', id }], `${point}:1`, '', 10_000);
  const died = Date.now();
  expect(r.outcome, `the sealer died at ${point}`).toBe('killed');
  const result = await waiting;
  const afterDeath = Date.now() - died;
  const report = ObjectStore.check(name);
  store.close();
  return { result, afterDeath, digest: sha1(data), report };
}

describe('phase 2 crash points: a sealer killed around its seal', () => {
  for (const point of ['phase2.seal.committed', 'phase2.seal.unlocked']) {
    test(`killed at ${point} (the seal is done): the waiting get returns the object at once`, async () => {
      // The waiter would otherwise sleep on until its capped sleep (5 s) or its timeout (20 s) ends.
      const { result, afterDeath, digest, report } = await sealerKilledAt(point, 20_000);
      expect(result.outcome).toBe('ok');
      expect(result.sha1).toBe(digest);
      expect(afterDeath, 'the waiter was woken by the seal, not by a timer').toBeLessThan(2000);
      expect(report.problems).toEqual([]);
    }, 120_000);
  }

  for (const point of ['phase2.seal.state', 'phase2.seal.bumped', 'phase2.seal.woken']) {
    test(`killed at ${point} (before the commit): the seal is undone and the waiter is not fooled`, async () => {
      const { result, report } = await sealerKilledAt(point, 1500);
      expect(['ERR_TIMEOUT', 'ERR_OBJECT_NOT_FOUND']).toContain(result.outcome);
      expect(result.elapsedMs, 'it waited for its whole timeout').toBeGreaterThanOrEqual(1400);
      expect(report.problems).toEqual([]);
    }, 120_000);
  }
});
