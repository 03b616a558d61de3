// Hidden, checklists 1.1-1.4: what the addon survives, whatever the code above it does (sizes beyond
// the runtime, worker threads, close() while locked, memory given back, a transferred scratch array).
import { addonSafetySuite } from '../../../testkit/addon-safety.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase1-shm/checklist.js';

addonSafetySuite({
  phase: 'phase 1',
  adapter: new URL('./adapter.ts', import.meta.url),
  sandbox: useSandbox(),
  items: { segment: checklist.segment, lock: checklist.mutex, views: checklist.putget, processes: checklist.multiprocess },
});
