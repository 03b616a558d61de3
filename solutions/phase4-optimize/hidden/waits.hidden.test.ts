// Hidden, checklist 4.1: waits bounded on both sides, several waiters on one seal.
import { describe, expect } from 'vitest';

import '../../../testkit/matchers.js';
import { waitUntilAsleep } from '../../../testkit/asleep.js';
import { expectBounded } from '../../../testkit/bounds.js';
import { fixtures, spawnChildren } from '../../../testkit/children.js';
import { Severity, graded } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase4-optimize/checklist.js';
import { ObjectStore, randomObjectId } from '../../../phase4-optimize/index.js';
import { checkedObject } from '../../../phase4-optimize/test/fixtures.js';

const sandbox = useSandbox();
const fx = fixtures<typeof import('../../../phase4-optimize/test/fixtures.js')>(
  new URL('../../../phase4-optimize/test/fixtures.ts', import.meta.url),
);

describe('phase 4 (hidden): waits', () => {
  graded(
    checklist.lifecycle,
    'three processes asleep in get() on one id, all woken by one seal from a fourth',
    async () => {
      const name = sandbox.segment('waiters');
      const store = ObjectStore.create(name, { capacity: 1 << 18, stripes: 8 });
      const id = randomObjectId();
      const waiters = await spawnChildren(3);
      const runs = waiters.map((c) => c.run(fx, 'waitGet', { name, id, timeoutMs: 20_000 }, 60_000));
      const pids = (await Promise.all(waiters.map((c) => c.waitEvent('waiting')))) as number[];
      for (const pid of pids) expect(await waitUntilAsleep(pid, name), `waiter ${pid} fell asleep`).toBe(true);
      const t0 = performance.now();
      store.put(checkedObject(7, 2000), id);
      await Promise.all(waiters.map((c) => c.waitEvent('returned', 10_000)));
      expect(performance.now() - t0, 'every waiter woke long before its timeout').toBeLessThan(4000);
      for (const c of waiters) c.signal('close');
      for (const r of await Promise.all(runs)) expect(r.outcome).toBe('ok');
      store.close();
    },
    { weight: Severity.behaviour, timeoutMs: 60_000 },
  );

  graded(
    checklist.lifecycle,
    'get timeouts of 150 to 950 ms each end on time: never early, never long after',
    () => {
      const store = ObjectStore.create(sandbox.segment('deadlines'), { capacity: 1 << 16 });
      const unsealed = randomObjectId();
      store.create(unsealed, 10);
      for (const ms of [150, 333, 520, 777, 950]) {
        const t0 = performance.now();
        expect(() => store.get(unsealed, { timeoutMs: ms })).toThrowMiniRay('ERR_TIMEOUT');
        expectBounded(performance.now() - t0, ms, `get of an unsealed object, ${ms} ms`);
      }
      store.abort(unsealed);
      store.close();
    },
    { weight: Severity.behaviour, timeoutMs: 30_000 },
  );
});
