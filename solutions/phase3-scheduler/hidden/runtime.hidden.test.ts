// Hidden, checklist 3.3: what the given glue survives whatever the scheduler above it does. An
// async wait still pending when the worker thread that started it is terminated must not take the
// process down when it completes (the libuv pool finishes it into an environment that is gone).
import { describe, expect } from 'vitest';

import { fixtures, spawnChild } from '../../../testkit/children.js';
import { Severity, graded } from '../../../testkit/graded.js';
import { howEnded } from '../../../testkit/hostile.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase3-scheduler/checklist.js';
import { Scheduler } from '../../../phase3-scheduler/index.js';

const sandbox = useSandbox();
const fx = fixtures<typeof import('./worker-fixtures.js')>(new URL('./worker-fixtures.ts', import.meta.url));

describe('hidden phase 3: waits that outlive their thread', () => {
  graded(
    checklist.blocking,
    'a worker thread terminated while its submitAsync, waitAsync and fetchAsync wait does not abort the process when they end',
    async () => {
      const full = Scheduler.create(sandbox.segment('orphan-full'), { queueCapacity: 1 });
      const empty = Scheduler.create(sandbox.segment('orphan-empty'), { queueCapacity: 4 });
      const task = full.submit({ fn: 'fills the queue' });
      const child = await spawnChild({ label: 'terminator' });
      const back = await child.run(fx, 'terminatedWhileWaiting', { full: full.name, empty: empty.name, task }, 30_000);
      expect(back, 'the schedulers work afterwards').toBe('after');
      expect(await howEnded(child, 50), 'the process survives').toBe('alive');
      expect(full.inspect(task).state, 'the queued task is untouched').toBe('queued');
      full.close();
      empty.close();
    },
    { weight: Severity.data, timeoutMs: 60_000 },
  );
});
