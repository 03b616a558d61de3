// Checklist 1.1: the segment is shared with every process that can open it, so nothing read from it
// is trusted. The geometry is checked once at open (without overflow) and copied into the process;
// a segment that others may write is refused.
//
// These tests do not know your header's layout: they overwrite each 8-byte word after the magic
// and version in turn, with values chosen to break geometry checks (all ones, a value that wraps
// past 2^64 once a table is added to it, the sign bit, 2^32, 1), and run every operation in a
// child process. Whatever the word was, an operation may fail with a MiniRayError, never crash.
import { chmodSync } from 'node:fs';

import { describe, expect } from 'vitest';

import { fixtures, spawnChild } from '../../testkit/children.js';
import { Severity, graded } from '../../testkit/graded.js';
import { expectNoFailures, fuzzSegment, unknownWords } from '../../testkit/hostile.js';
import { randomObjectId } from '../../lib/ids.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { SHM_DIR } from '../../testkit/segments.js';
import { checklist } from '../checklist.js';
import { ShmStore, type ObjectId } from '../index.js';

const sandbox = useSandbox();
const item = checklist.segment;
const fx = fixtures<typeof import('./probe-fixtures.js')>(new URL('./probe-fixtures.ts', import.meta.url));

// The words after magic (0-7) and version (8-11) that a header is likely to hold its sizes in.
const HEADER_WORDS = unknownWords(16, 128);
// Any MiniRayError is acceptable here, except "not implemented"; a crash or a plain Error is not.
const TYPED = ['ERR_SEGMENT_CORRUPT', 'ERR_LAYOUT_MISMATCH', 'ERR_LOCK_TIMEOUT', 'ERR_DEADLOCK', 'ERR_OBJECT_NOT_FOUND',
  'ERR_SHM_FULL', 'ERR_TABLE_FULL', 'ERR_SYSTEM', 'ERR_INVALID_ARGUMENT', 'ERR_CLOSED'] as const;

function storeWithObjects(tag: string): { name: string; store: ShmStore; ids: ObjectId[] } {
  const name = sandbox.segment(tag);
  const store = ShmStore.create(name, { capacity: 64 * 1024, maxObjects: 64, lockTimeoutMs: 50 });
  const ids = ['first', 'second object', 'third'].map((s) => store.put(Buffer.from(s)));
  return { name, store, ids };
}

// Overwrites each word of the header in turn while another process runs every operation: on a handle
// it opened before the damage (`held`), or on a fresh open() after it.
async function scribbleEachWord(held: boolean): Promise<void> {
  const { name, store, ids } = storeWithObjects(held ? 'scribbled-held' : 'scribbled-open');
  const report = await fuzzSegment({
    segment: name,
    fields: HEADER_WORDS,
    seed: 1,
    values: { segmentSize: store.stats().segmentSize },
    randomPerField: 0,
    restore: { offset: 0, length: 128 },
    ...(held ? { prepare: (child) => child.run(fx, 'attach', { name, lockTimeoutMs: 50 }) } : {}),
    probe: (child) => child.run(fx, 'probe', { name, ids, missing: randomObjectId(), held, lockTimeoutMs: 50 }),
    allowed: () => TYPED,
    label: held ? 'holder of an open handle' : 'opener',
  });
  expectNoFailures(report, held ? 'operations on a handle opened before the header was damaged' : 'a fresh open() of a damaged header, then every operation');
  // (A damaged bump pointer may have let a probe's put land on an earlier object: that is the damage
  // done, not a bug. The store itself must work again once its header is restored.)
  expect(store.get(store.put(Buffer.from('restored'))).toString(), 'the store works once the header is restored').toBe('restored');
  store.close();
}

describe('phase 1: the segment is not trusted', () => {
  // The probes put, get and read stats: graded with checklist 1.3, once those work.
  graded(
    checklist.putget,
    'open() of a header with impossible sizes or offsets (even ones that wrap past 2^64) fails with a typed error, never a crash',
    () => scribbleEachWord(false),
    { weight: Severity.data, timeoutMs: 60_000 },
  );

  graded(
    checklist.putget,
    'a header rewritten by another process after open() never crashes put, get or stats: the geometry was copied at open',
    () => scribbleEachWord(true),
    { weight: Severity.data, timeoutMs: 60_000 },
  );

  graded(
    item,
    'open() refuses a segment that group or others may read or write (ERR_LAYOUT_MISMATCH) and accepts mode 0600',
    async () => {
      const name = sandbox.segment('mode');
      const store = ShmStore.create(name, { capacity: 4096 });
      for (const mode of [0o666, 0o660, 0o640, 0o606, 0o604, 0o602]) {
        chmodSync(`${SHM_DIR}${name}`, mode);
        expect(() => ShmStore.open(name, { lockTimeoutMs: 200 }), `a segment of mode 0${mode.toString(8)}`).toThrowMiniRay(
          'ERR_LAYOUT_MISMATCH',
        );
      }
      chmodSync(`${SHM_DIR}${name}`, 0o600);
      const again = ShmStore.open(name, { lockTimeoutMs: 200 }); // mode 0600, the one a store creates, opens
      again.close();
      store.close();
    },
    { weight: Severity.behaviour },
  );
});
