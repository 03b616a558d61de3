// Hidden, checklist 1.3: get() hands out views of shared memory, and they never crash the process.
import { describe, expect } from 'vitest';

import { fixtures, spawnChild } from '../../../testkit/children.js';
import { graded } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase1-shm/checklist.js';
import { ShmStore } from '../../../phase1-shm/index.js';
import { patternBytes, sha1 } from '../../../phase1-shm/test/fixtures.js';

const sandbox = useSandbox();
const item = checklist.putget;
const fx = fixtures<typeof import('./fixtures.js')>(new URL('./fixtures.ts', import.meta.url));

describe('hidden phase 1: zero-copy', () => {
  graded(item, 'two gets of a 1 MiB object share memory: a write through one shows in the other', () => {
    const store = ShmStore.create(sandbox.segment('share'), { capacity: 4 << 20 });
    const data = patternBytes(3, 1 << 20);
    const id = store.put(data);
    const a = store.get(id);
    const b = store.get(id);
    expect(a.buffer, 'both views are windows on the one segment buffer').toBe(b.buffer);
    expect(a.byteOffset).toBe(b.byteOffset);
    a[123_456] = (a[123_456] ?? 0) ^ 0xff;
    expect(b[123_456]).toBe(a[123_456]);
    store.close();
  });

  graded(item, 'a view read after close() (in another process) returns the bytes and does not crash it', async () => {
    const name = sandbox.segment('afterclose');
    const store = ShmStore.create(name, { capacity: 1 << 20 });
    const data = patternBytes(11, 300_000);
    const id = store.put(data);
    const child = await spawnChild({ label: 'reader' });
    expect(await child.run(fx, 'readAfterClose', { name, id })).toBe(sha1(data));
    expect(child.alive, 'the reader survived').toBe(true);
    // And here: close, unlink, then read.
    const view = store.get(id);
    store.close();
    ShmStore.unlink(name);
    expect(sha1(view)).toBe(sha1(data));
    expect(() => store.put(Buffer.from('x'))).toThrowMiniRay('ERR_CLOSED');
  });
});
