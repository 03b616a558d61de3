// Checklist 1.1: create, open and unlink a POSIX shared memory segment with a checked header.
import { statSync, writeFileSync } from 'node:fs';

import { describe, expect } from 'vitest';

import { graded } from '../../testkit/graded.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { SHM_DIR, segmentExists } from '../../testkit/segments.js';
import { checklist } from '../checklist.js';
import { ShmStore } from '../index.js';

const sandbox = useSandbox();
const item = checklist.segment;

describe('phase 1: the segment', () => {
  graded(item, 'create() makes /dev/shm/<name> with mode 0600, and unlink() removes it', () => {
    const name = sandbox.segment('create');
    const store = ShmStore.create(name, { capacity: 64 * 1024 });
    expect(segmentExists(name), `expected ${SHM_DIR}${name} to exist after create()`).toBe(true);
    expect(statSync(`${SHM_DIR}${name}`).mode & 0o777, 'segments must be private to the user: mode 0600').toBe(0o600);
    expect(statSync(`${SHM_DIR}${name}`).size, 'the segment holds at least the data region').toBeGreaterThanOrEqual(64 * 1024);
    store.close();
    ShmStore.unlink(name);
    expect(segmentExists(name), 'unlink() must remove the name').toBe(false);
  });

  // Needs put() and get(): graded with checklist 1.3.
  graded(checklist.putget, 'open() attaches to a segment another handle created and sees its objects', () => {
    const name = sandbox.segment('open');
    const a = ShmStore.create(name, { capacity: 64 * 1024 });
    const id = a.put(Buffer.from('from a'));
    const b = ShmStore.open(name);
    expect(b.get(id).toString()).toBe('from a');
    expect(b.stats().objectCount).toBe(1);
    a.close();
    b.close();
  });

  graded(item, 'create() of an existing name fails with ERR_SEGMENT_EXISTS (O_EXCL)', () => {
    const name = sandbox.segment('exists');
    const a = ShmStore.create(name, { capacity: 4096 });
    expect(() => ShmStore.create(name, { capacity: 4096 })).toThrowMiniRay('ERR_SEGMENT_EXISTS');
    a.close();
  });

  graded(item, 'open() and unlink() of a missing segment fail with ERR_SEGMENT_NOT_FOUND', () => {
    const name = sandbox.segment('missing');
    expect(() => ShmStore.open(name)).toThrowMiniRay('ERR_SEGMENT_NOT_FOUND');
    expect(() => ShmStore.unlink(name)).toThrowMiniRay('ERR_SEGMENT_NOT_FOUND');
  });

  graded(item, 'names without a leading slash, with another slash, or empty fail with ERR_BAD_NAME', () => {
    for (const bad of ['no-slash', '/a/b', '/', '', '/has space']) {
      expect(() => ShmStore.create(bad, { capacity: 4096 }), `name '${bad}'`).toThrowMiniRay('ERR_BAD_NAME');
    }
  });

  graded(item, 'open() refuses a segment that is not ours with ERR_LAYOUT_MISMATCH', () => {
    const name = sandbox.segment('foreign');
    writeFileSync(`${SHM_DIR}${name}`, Buffer.alloc(64 * 1024, 0x5a), { mode: 0o600 });
    expect(() => ShmStore.open(name, { lockTimeoutMs: 200 })).toThrowMiniRay('ERR_LAYOUT_MISMATCH');
  });
});
