// Hidden, checklists 2.3-2.6: what the addon survives, whatever the code above it does (sizes beyond
// the runtime, worker threads, close() while locked, memory given back, a transferred scratch array).
import { describe, expect } from 'vitest';

import { addonSafetySuite } from '../../../testkit/addon-safety.js';
import { fixtures, spawnChild } from '../../../testkit/children.js';
import { Severity, graded } from '../../../testkit/graded.js';
import { howEnded } from '../../../testkit/hostile.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase2-objects/checklist.js';
import { ObjectStore } from '../../../phase2-objects/index.js';

const sandbox = useSandbox();

addonSafetySuite({
  phase: 'phase 2',
  adapter: new URL('./adapter.ts', import.meta.url),
  sandbox,
  items: { segment: checklist.lifecycle, lock: checklist.lifecycle, views: checklist.lifecycle, processes: checklist.stress },
});

describe('hidden phase 2: gets that outlive their thread', () => {
  const fx = fixtures<typeof import('./worker-fixtures.js')>(new URL('./worker-fixtures.ts', import.meta.url));

  graded(
    checklist.stress,
    'a worker thread terminated while its getAsync waits does not abort the process when the wait ends',
    async () => {
      const name = sandbox.segment('orphan-get');
      const store = ObjectStore.create(name, { capacity: 1 << 16 });
      const child = await spawnChild({ label: 'terminator' });
      expect(await child.run(fx, 'terminatedWhileWaiting', { name }, 30_000)).toBe('after');
      expect(await howEnded(child, 50), 'the process survives').toBe('alive');
      store.close();
    },
    { weight: Severity.data, timeoutMs: 60_000 },
  );
});
