// Hidden, checklists 2.3 and 2.6: what the given segment code (native-common) and glue guarantee
// from phase 2 on: views reach the data region and nothing else, and open() trusts only segments
// that no other user can write.
import { chmodSync, chownSync } from 'node:fs';

import { describe, expect } from 'vitest';

import { Severity, graded } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { SHM_DIR } from '../../../testkit/segments.js';
import { checklist } from '../../../phase2-objects/checklist.js';
import { ObjectStore } from '../../../phase2-objects/index.js';

const sandbox = useSandbox();

describe('hidden phase 2: the segment behind the views', () => {
  graded(
    checklist.lifecycle,
    "a view's .buffer is the data region alone: overwriting all of it leaves the lock and the table intact",
    () => {
      const name = sandbox.segment('reach');
      const store = ObjectStore.create(name, { capacity: 1 << 16, tableSize: 32, lockTimeoutMs: 500 });
      const id = store.put(Buffer.from('object'));
      const view = store.get(id);
      const layout = store.debug.layout();
      expect(view.buffer.byteLength, 'the buffer behind a view covers the data region').toBe(layout.dataBytes);
      // What any code holding a view can do: write everything its buffer reaches.
      new Uint8Array(view.buffer).fill(0xff);
      const other = ObjectStore.open(name, { lockTimeoutMs: 500 });
      expect(other.contains(id), 'the table still knows the object').toBe(true);
      other.debug.lock();
      other.debug.unlock();
      other.close();
      store.release(id);
      store.close();
    },
    { weight: Severity.data },
  );

  graded(
    checklist.stress,
    'open() refuses a segment that group or others may open, or that another user owns (ERR_LAYOUT_MISMATCH)',
    () => {
      const name = sandbox.segment('foreign');
      const store = ObjectStore.create(name, { capacity: 1 << 16 });
      const file = `${SHM_DIR}${name}`;
      for (const mode of [0o666, 0o660, 0o604]) {
        chmodSync(file, mode);
        expect(() => ObjectStore.open(name, { lockTimeoutMs: 200 }), `mode 0${mode.toString(8)}`).toThrowMiniRay('ERR_LAYOUT_MISMATCH');
      }
      chmodSync(file, 0o600);
      if (process.getuid?.() === 0) {
        chownSync(file, 65534, 65534); // only root can give a file away
        expect(() => ObjectStore.open(name, { lockTimeoutMs: 200 }), 'owned by uid 65534').toThrowMiniRay('ERR_LAYOUT_MISMATCH');
        chownSync(file, 0, 0);
      }
      ObjectStore.open(name, { lockTimeoutMs: 200 }).close();
      store.close();
    },
    { weight: Severity.behaviour },
  );
});
