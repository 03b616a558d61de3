// Hidden, checklist 4.1: a stripe's probe sequence past deleted slots.
import { describe, expect } from 'vitest';

import '../../../testkit/matchers.js';
import { Severity, graded } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase4-optimize/checklist.js';
import { ObjectStore } from '../../../phase4-optimize/index.js';
import { checkedObject, collidingIds, verifyChecked } from '../../../phase4-optimize/test/fixtures.js';

const sandbox = useSandbox();

describe('phase 4 (hidden): the striped table', () => {
  graded(
    checklist.lifecycle,
    'ids that collide in one stripe stay visible past deleted slots, and cannot be stored a second time',
    () => {
      const store = ObjectStore.create(sandbox.segment('tomb'), { capacity: 1 << 18, stripes: 2, slotsPerStripe: 4 });
      const ids = collidingIds(4, 2, 1, 4); // all four probe from slot 0: each passes the ones before it
      ids.forEach((id, i) => store.put(checkedObject(i, 100), id));
      store.delete(ids[0]!);
      store.delete(ids[2]!);
      for (const i of [1, 3]) {
        expect(store.contains(ids[i]!), `object ${i} after the deletes`).toBe(true);
        expect(verifyChecked(store.get(ids[i]!))).toBe(true);
        store.release(ids[i]!);
        expect(() => store.put(checkedObject(9, 100), ids[i])).toThrowMiniRay('ERR_OBJECT_EXISTS');
      }
      store.put(checkedObject(5, 100), ids[0]);
      store.put(checkedObject(6, 100), ids[2]);
      expect(store.stats().objectCount).toBe(4);
      store.close();
    },
    { weight: Severity.data },
  );
});
