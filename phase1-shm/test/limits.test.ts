// Checklists 1.1 and 1.3: every limit the lesson states, tried on both sides.
import { describe, expect } from 'vitest';

import { graded, Severity } from '../../testkit/graded.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { segmentExists, trackSegment } from '../../testkit/segments.js';
import { checklist } from '../checklist.js';
import { ShmStore } from '../index.js';

const sandbox = useSandbox();

// A tracked name of exactly `length` characters after the slash.
function nameOfLength(length: number): string {
  const base = sandbox.segment('len');
  const name = `${base}${'x'.repeat(Math.max(0, length + 1 - base.length))}`.slice(0, length + 1);
  trackSegment(name);
  return name;
}

describe('phase 1: limits', () => {
  graded(
    checklist.segment,
    'names: "/" then 1 to 200 characters of [A-Za-z0-9._-]: 200 is accepted and 201 is not; every character class at its edges; "/." and "/.." are refused',
    () => {
      for (const name of [nameOfLength(200), sandbox.segment('aAzZ09._-')]) {
        const store = ShmStore.create(name, { capacity: 4096 });
        store.close();
        ShmStore.unlink(name);
      }
      // The shortest name, one character: such names are global, so take one nobody else holds.
      let shortest = false;
      for (const c of 'QjW7kZ3vXq') {
        const name = `/${c}`;
        if (segmentExists(name)) continue;
        let store: ShmStore;
        try {
          store = ShmStore.create(name, { capacity: 4096 });
        } catch (e) {
          if ((e as { code?: string }).code === 'ERR_SEGMENT_EXISTS') continue; // someone else's, just made
          throw e;
        }
        trackSegment(name);
        store.close();
        ShmStore.unlink(name);
        shortest = true;
        break;
      }
      expect(shortest, 'a one-character name was tried').toBe(true);
      // 201 characters, and the character just outside each allowed range.
      const invalid = [nameOfLength(201), '/', '/.', '/..', ...['`', '{', '@', '[', ':', '/', ' ', ',', '^'].map((c) => `${sandbox.segment('edge')}${c}x`)];
      for (const name of invalid) {
        // A create that wrongly accepts the name leaves a file to remove (when the name is one).
        if (/^\/[^/]+$/.test(name) && name !== '/.' && name !== '/..') trackSegment(name);
        expect(() => ShmStore.create(name, { capacity: 4096 }), `create('${name.slice(0, 40)}…')`).toThrowMiniRay('ERR_BAD_NAME');
        expect(() => ShmStore.unlink(name), `unlink('${name.slice(0, 40)}…')`).toThrowMiniRay('ERR_BAD_NAME');
      }
    },
    { weight: Severity.code },
  );

  graded(
    checklist.putget,
    'a table of maxObjects entries holds exactly maxObjects objects, from the first slot to the last, and the data region exactly its capacity',
    () => {
      const store = ShmStore.create(sandbox.segment('exact'), { capacity: 4096, maxObjects: 9 });
      const capacity = store.stats().capacity;
      // Seven small objects, one that takes every byte left, and an empty one, which still fits
      // where the data region ends: both limits reached at once.
      const ids = Array.from({ length: 7 }, (_, i) => store.put(Buffer.alloc(64, i + 1)));
      const rest = capacity - 7 * 64;
      const last = store.put(Buffer.alloc(rest, 0xee));
      const empty = store.put(Buffer.alloc(0));
      const s = store.stats();
      expect(s.objectCount).toBe(9);
      expect(s.usedBytes, 'every byte of the data region is used').toBe(capacity);
      expect(() => store.put(Buffer.alloc(0)), 'a tenth object, even an empty one').toThrowMiniRay('ERR_TABLE_FULL');
      ids.forEach((id, i) => expect(store.get(id).equals(Buffer.alloc(64, i + 1)), `object ${i}`).toBe(true));
      expect(store.get(last).equals(Buffer.alloc(rest, 0xee)), 'the object that ends at the last byte').toBe(true);
      expect(store.get(empty).length, 'the empty object at the very end, in the last slot').toBe(0);
      store.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    checklist.putget,
    'objects of 0, 1, 2, 63, 64, 65 and 4097 bytes read back byte for byte (the smallest sizes included)',
    () => {
      const store = ShmStore.create(sandbox.segment('small-sizes'), { capacity: 64 * 1024 });
      const objects = [0, 1, 2, 63, 64, 65, 4097].map((n, i) => {
        const data = Buffer.alloc(n, 0xa0 + i);
        return { data, id: store.put(data) };
      });
      for (const { data, id } of objects) {
        expect(store.get(id).equals(data), `an object of ${data.length} bytes`).toBe(true);
      }
      store.close();
    },
    { weight: Severity.data },
  );
});
