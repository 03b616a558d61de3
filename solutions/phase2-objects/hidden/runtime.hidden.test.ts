// Hidden, checklists 2.2-2.5: what the addon survives, whatever the code above it does (sizes beyond
// the runtime, worker threads, close() while locked, memory given back, a transferred scratch array).
import { addonSafetySuite } from '../../../testkit/addon-safety.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase2-objects/checklist.js';

addonSafetySuite({
  phase: 'phase 2',
  adapter: new URL('./adapter.ts', import.meta.url),
  sandbox: useSandbox(),
  items: { segment: checklist.space, lock: checklist.lifecycle, views: checklist.lifecycle, processes: checklist.stress },
});
