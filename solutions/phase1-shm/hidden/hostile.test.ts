// Hidden, checklist 1.1: a segment written by a hostile or broken process. Every header and table
// field gets random and adversarial values (a seeded run: a failure prints its seed), and another
// process runs every operation, both on a handle opened before the damage and on a fresh open():
// each operation succeeds or fails with a typed error, and the process is never killed by a signal.
import { spawnSync } from 'node:child_process';
import { chownSync } from 'node:fs';

import { describe, expect } from 'vitest';

import { ChildExitedError, fixtures, spawnChild, type Child } from '../../../testkit/children.js';
import { Severity, graded } from '../../../testkit/graded.js';
import { encodeLE, expectNoFailures, type OpOutcome, fuzzSeed, fuzzSegment, howEnded, readSegment, writeSegment, type Field } from '../../../testkit/hostile.js';
import { randomObjectId } from '../../../lib/ids.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { SHM_DIR } from '../../../testkit/segments.js';
import { checklist } from '../../../phase1-shm/checklist.js';
import { ShmStore, type ObjectId } from '../../../phase1-shm/index.js';
import { ENTRY_BYTES, GEOMETRY, HEADER_BYTES, HEADER_FIELDS, entryFields, usesSuggestedLayout } from './layout.js';

const sandbox = useSandbox();
const fx = fixtures<typeof import('../../../phase1-shm/test/probe-fixtures.js')>(
  new URL('../../../phase1-shm/test/probe-fixtures.ts', import.meta.url),
);
const pub = fixtures<typeof import('../../../phase1-shm/test/fixtures.js')>(
  new URL('../../../phase1-shm/test/fixtures.ts', import.meta.url),
);

// A child takes the store's lock and is SIGKILLed holding it: the next lock must recover.
async function killHolder(name: string): Promise<void> {
  const victim = await spawnChild({ label: 'victim' });
  void victim.run(pub, 'holdLock', { name }).catch(() => undefined);
  await victim.waitEvent('locked');
  await victim.kill('SIGKILL');
}

// Every operation in `child` on the damaged segment (open() first unless `held`). A child killed by
// a signal fails the test, naming the damage.
async function probeDamaged(
  child: Child,
  what: string,
  args: { name: string; ids: readonly ObjectId[]; held?: boolean; lockTimeoutMs: number },
): Promise<OpOutcome[]> {
  let out: OpOutcome[];
  try {
    out = await child.run(fx, 'probe', { ...args, held: args.held ?? false, missing: randomObjectId() });
  } catch (e) {
    if (e instanceof ChildExitedError) throw new Error(`${what}: the process must survive, but ${await howEnded(child)}`);
    throw e;
  }
  expect(await howEnded(child, 10), `${what}: the process survives`).toBe('alive');
  return out;
}

// open() refused the damage, and no operation failed with an untyped or unexpected error. Which word
// is which is only known for the suggested header: for another layout the bytes hit other fields of
// the student's, and the operations only had to fail cleanly.
function expectOpenRefused(out: readonly OpOutcome[], what: string, suggested: boolean): void {
  if (suggested) expect(out[0], `${what}: open() must refuse it`).toMatchObject({ op: 'open', result: 'ERR_LAYOUT_MISMATCH' });
  for (const o of out) expect(['ok', ...SEGMENT_ERRORS], `${what}: ${o.op}: ${o.message ?? ''}`).toContain(o.result);
}

// The header as it was opens again, and the object put before the damage ('kept') is intact.
function expectRestoredOpens(name: string, kept: ObjectId): void {
  const again = ShmStore.open(name, { lockTimeoutMs: 1000 });
  expect(again.get(kept).toString(), 'the restored header opens, and the object is intact').toBe('kept');
  again.close();
}

const LOCK_TIMEOUT_MS = 10;
// What damage may legitimately cause, besides success.
const SEGMENT_ERRORS = ['ERR_SEGMENT_CORRUPT', 'ERR_LAYOUT_MISMATCH', 'ERR_LOCK_TIMEOUT', 'ERR_OBJECT_NOT_FOUND', 'ERR_SHM_FULL', 'ERR_TABLE_FULL'];
// A garbage mutex may also be reported as the OS reported it.
const allowed = (f: Field): readonly string[] => (f.kind === 'lock' ? [...SEGMENT_ERRORS, 'ERR_SYSTEM', 'ERR_DEADLOCK'] : SEGMENT_ERRORS);

async function fuzz(held: boolean, seed: number): Promise<void> {
  const name = sandbox.segment(held ? 'fuzz-held' : 'fuzz-open');
  const store = ShmStore.create(name, { capacity: 16 * 1024, maxObjects: 8, lockTimeoutMs: 1000 });
  const ids = ['alpha', 'beta', 'gamma'].map((s) => store.put(Buffer.from(s)));
  const fields = [...HEADER_FIELDS, ...[0, 1, 2, 3].flatMap(entryFields)];
  const report = await fuzzSegment({
    segment: name,
    fields,
    seed: fuzzSeed(seed),
    values: { segmentSize: store.stats().segmentSize, landmarks: [HEADER_BYTES, HEADER_BYTES + 8 * ENTRY_BYTES] },
    randomPerField: 3,
    restore: { offset: 0, length: HEADER_BYTES + 8 * ENTRY_BYTES },
    ...(held ? { prepare: (child) => child.run(fx, 'attach', { name, lockTimeoutMs: LOCK_TIMEOUT_MS }) } : {}),
    probe: (child) =>
      child.run(fx, 'probe', { name, ids, missing: randomObjectId(), held, lockTimeoutMs: LOCK_TIMEOUT_MS }),
    allowed,
    label: held ? 'a handle opened before the damage' : 'a fresh open()',
  });
  expectNoFailures(report, held ? 'every field damaged under an open handle' : 'every field damaged, then open()');
  expect(store.get(store.put(Buffer.from('restored'))).toString(), 'the store works once restored').toBe('restored');
  store.close();
}

// Where the store's lock keeps its kind word, found from the bytes rather than assumed, so that any
// header layout is attacked at its own mutex: glibc's pthread_mutex_t (x86-64 and arm64) keeps the
// lock word at +0, the owner at +8 and the kind at +16. A robust mutex's kind word has bit 0x10 set,
// no priority bits (0x20, 0x40), a type 0-3 and maybe the process-shared bit 0x80; an unlocked one
// has lock and owner 0. The offsets of the first page where all of that holds.
function robustMutexKindOffsets(bytes: Buffer): number[] {
  const out: number[] = [];
  for (let o = 16; o + 4 <= bytes.length; o += 4) {
    const kind = bytes.readUInt32LE(o);
    if ((kind & ~0x83) === 0x10 && bytes.readUInt32LE(o - 16) === 0 && bytes.readUInt32LE(o - 8) === 0) out.push(o);
  }
  return out;
}

describe('hidden phase 1: hostile segments', () => {
  graded(checklist.segment, 'fuzzed header and table fields under an open handle: typed errors, never a signal', () => fuzz(true, 0x5eed01), {
    weight: Severity.data,
    timeoutMs: 120_000,
  });

  graded(checklist.segment, 'fuzzed header and table fields, then open() and every operation: typed errors, never a signal', () => fuzz(false, 0x5eed02), {
    weight: Severity.data,
    timeoutMs: 120_000,
  });

  graded(
    checklist.segment,
    'open() refuses a table or data region outside the segment, also when offset + size wraps past 2^64 (ERR_LAYOUT_MISMATCH)',
    async () => {
      const name = sandbox.segment('wrap');
      const store = ShmStore.create(name, { capacity: 16 * 1024, maxObjects: 1024, lockTimeoutMs: 1000 });
      const ids = [store.put(Buffer.from('kept'))];
      const header = readSegment(name, 0, HEADER_BYTES);
      const suggested = usesSuggestedLayout(header, store.stats());
      const child = await spawnChild({ label: 'opener' });
      // 64-aligned values near 2^64: table_offset + 1024 * 40 wraps to a small number, which a check
      // written as `data_offset >= table_offset + max_objects * 40` lets through.
      const cases: Array<[number, bigint]> = [
        [GEOMETRY.tableOffset, (1n << 64n) - 64n],
        [GEOMETRY.tableOffset, (1n << 64n) - 4096n],
        [GEOMETRY.tableOffset, 1n << 63n],
        [GEOMETRY.dataOffset, (1n << 64n) - 64n],
        [GEOMETRY.maxObjects, 1n << 61n],
      ];
      for (const [offset, value] of cases) {
        writeSegment(name, offset, encodeLE(value, 8));
        const what = `bytes ${offset}-${offset + 7} = 0x${value.toString(16)}`;
        expectOpenRefused(await probeDamaged(child, what, { name, ids, lockTimeoutMs: 50 }), what, suggested);
        writeSegment(name, 0, header);
      }
      store.close();
    },
    { weight: Severity.data, timeoutMs: 60_000 },
  );

  graded(
    checklist.segment,
    'open() refuses a data region that overlaps the table or holds nothing, even with the capacity forged to match it: from the table\'s start, one alignment unit before its end, and at the segment\'s end (ERR_LAYOUT_MISMATCH)',
    async () => {
      const name = sandbox.segment('overlap');
      const maxObjects = 16; // a table of 640 bytes: ten alignment units
      const store = ShmStore.create(name, { capacity: 16 * 1024, maxObjects, lockTimeoutMs: 1000 });
      const ids = [store.put(Buffer.from('kept'))];
      const header = readSegment(name, 0, HEADER_BYTES);
      const suggested = usesSuggestedLayout(header, store.stats());
      const segmentSize = BigInt(store.stats().segmentSize);
      const tableOffset = header.readBigUInt64LE(GEOMETRY.tableOffset);
      const tableEnd = tableOffset + BigInt(maxObjects * ENTRY_BYTES);
      const child = await spawnChild({ label: 'opener' });
      // Two fields changed together, so that every other check still holds: the data region starts
      // inside the table (a put would write over table entries), or at the segment's end (a capacity
      // of 0), and the capacity is what the rest of the segment holds from there.
      for (const dataOffset of [tableOffset, tableEnd - 64n, segmentSize]) {
        writeSegment(name, GEOMETRY.dataOffset, encodeLE(dataOffset, 8));
        writeSegment(name, GEOMETRY.capacity, encodeLE(segmentSize - dataOffset, 8));
        const what = `data_offset ${dataOffset} in a table of ${tableOffset}..${tableEnd}, capacity ${segmentSize - dataOffset}`;
        expectOpenRefused(await probeDamaged(child, what, { name, ids, lockTimeoutMs: 50 }), what, suggested);
        writeSegment(name, 0, header);
      }
      expectRestoredOpens(name, ids[0] as ObjectId);
      store.close();
    },
    { weight: Severity.data, timeoutMs: 60_000 },
  );

  graded(
    checklist.segment,
    'open() refuses a table that starts inside the header, at offset 0 or 64, with every other size and offset consistent (ERR_LAYOUT_MISMATCH): a put would write its entry over the header',
    async () => {
      const name = sandbox.segment('table-in-header');
      const store = ShmStore.create(name, { capacity: 16 * 1024, maxObjects: 8, lockTimeoutMs: 1000 });
      const ids = [store.put(Buffer.from('kept'))];
      const header = readSegment(name, 0, HEADER_BYTES);
      const suggested = usesSuggestedLayout(header, store.stats());
      const dataOffset = header.readBigUInt64LE(GEOMETRY.dataOffset);
      const child = await spawnChild({ label: 'opener' });
      // Aligned offsets before the header's end: the table (8 entries, 320 bytes) still ends before
      // the data region, so only a check of the table's start against the header refuses them.
      for (const tableOffset of [0n, 64n]) {
        writeSegment(name, GEOMETRY.tableOffset, encodeLE(tableOffset, 8));
        const what = `table_offset ${tableOffset} in a header of ${HEADER_BYTES} bytes (data_offset ${dataOffset})`;
        expectOpenRefused(await probeDamaged(child, what, { name, ids, lockTimeoutMs: 50 }), what, suggested);
        writeSegment(name, 0, header);
      }
      expectRestoredOpens(name, ids[0] as ObjectId);
      store.close();
    },
    { weight: Severity.data, timeoutMs: 60_000 },
  );

  graded(
    checklist.mutex,
    'after a holder is SIGKILLed with the lock held, an object_count forged far past the table is refused with ERR_SEGMENT_CORRUPT: the recovery of the next locker reads no entry beyond the table (no signal)',
    async () => {
      const name = sandbox.segment('repair-count');
      const store = ShmStore.create(name, { capacity: 16 * 1024, maxObjects: 8, lockTimeoutMs: 1000 });
      const ids = ['alpha', 'beta'].map((t) => store.put(Buffer.from(t)));
      const header = readSegment(name, 0, HEADER_BYTES);
      const suggested = usesSuggestedLayout(header, store.stats());
      const child = await spawnChild({ label: 'next-locker' });
      for (const count of [1n << 40n, (1n << 64n) - 1n]) {
        await killHolder(name);
        writeSegment(name, GEOMETRY.objectCount, encodeLE(count, 8));
        const what = `object_count 0x${count.toString(16)} in a table of 8, the lock's holder dead`;
        const out = await probeDamaged(child, what, { name, ids, lockTimeoutMs: 1000 });
        for (const o of out) expect(['ok', ...SEGMENT_ERRORS], `${what}: ${o.op}: ${o.message ?? ''}`).toContain(o.result);
        // For another layout the word hit some other field: the operations only had to fail cleanly.
        if (suggested) {
          for (const o of out.filter((x) => ['stats', 'get #0', 'put'].includes(x.op))) {
            expect(o.result, `${what}: ${o.op} must report the count: ${o.message ?? ''}`).toBe('ERR_SEGMENT_CORRUPT');
          }
        }
        writeSegment(name, GEOMETRY.objectCount, header.subarray(GEOMETRY.objectCount, GEOMETRY.objectCount + 8));
      }
      const s = store.stats();
      expect(s.objectCount, 'the restored count').toBe(2);
      expect(s.lockRecoveries, 'one takeover per dead holder').toBe(2);
      expect(ids.map((id) => store.get(id).toString()), 'the objects are intact').toEqual(['alpha', 'beta']);
      store.close();
    },
    { weight: Severity.data, timeoutMs: 60_000 },
  );

  graded(
    checklist.mutex,
    'after a holder is SIGKILLed with the lock held, an entry whose offset was forged past the data region costs only that object: recovery keeps usedBytes, the other object reads back, the forged one is ERR_SEGMENT_CORRUPT and a new put fits',
    async () => {
      const name = sandbox.segment('repair-entry');
      const store = ShmStore.create(name, { capacity: 16 * 1024, maxObjects: 8, lockTimeoutMs: 1000 });
      const ids = ['alpha', 'beta'].map((t) => store.put(Buffer.from(t)));
      const header = readSegment(name, 0, HEADER_BYTES);
      const before = store.stats();
      const suggested = usesSuggestedLayout(header, before);
      await killHolder(name);
      // Entry 0 (alpha): its offset one alignment unit past the end of the data region (the capacity
      // stats() reports: the page-rounded segment gives the region more than was asked for).
      writeSegment(name, HEADER_BYTES + 24, encodeLE(BigInt(before.capacity + 64), 8));
      if (!suggested) {
        // For another layout the word hit some other field: the operations only had to fail cleanly.
        for (const op of [() => store.stats(), () => store.get(ids[1] as ObjectId), () => store.put(Buffer.from('gamma'))]) {
          try {
            op();
          } catch (e) {
            expect(SEGMENT_ERRORS, String(e)).toContain((e as { code?: string }).code);
          }
        }
        store.close();
        return;
      }
      const after = store.stats();
      expect(after.lockRecoveries, 'the dead holder was taken over once').toBe(before.lockRecoveries + 1);
      expect(after.usedBytes, 'recovery must not move the free space past a damaged entry').toBe(before.usedBytes);
      expect(store.get(ids[1] as ObjectId).toString(), 'the undamaged object').toBe('beta');
      expect(() => store.get(ids[0] as ObjectId), 'the object whose entry lies outside the data region').toThrowMiniRay('ERR_SEGMENT_CORRUPT');
      const gamma = store.put(Buffer.from('gamma'));
      expect(store.get(gamma).toString(), 'a new object fits where the free space began').toBe('gamma');
      expect(store.stats().usedBytes, 'and takes its own 64 bytes').toBe(before.usedBytes + 64);
      store.close();
    },
    { weight: Severity.behaviour, timeoutMs: 60_000 },
  );

  graded(
    checklist.segment,
    "open() refuses a segment owned by another user, even one of mode 0600 (ERR_LAYOUT_MISMATCH)",
    () => {
      const name = sandbox.segment('foreign-owner');
      const store = ShmStore.create(name, { capacity: 4096 });
      const uid = process.getuid?.() ?? 0;
      if (uid === 0) {
        // Only root can give a file away; elsewhere the owner check cannot be staged, and the test
        // checks the permission bits instead.
        chownSync(`${SHM_DIR}${name}`, 65534, 65534);
        expect(() => ShmStore.open(name, { lockTimeoutMs: 200 }), 'a segment of uid 65534').toThrowMiniRay('ERR_LAYOUT_MISMATCH');
        chownSync(`${SHM_DIR}${name}`, 0, 0);
      }
      const again = ShmStore.open(name, { lockTimeoutMs: 200 });
      expect(again.stats().objectCount, 'its own segment opens').toBe(0);
      again.close();
      store.close();
    },
    { weight: Severity.behaviour },
  );
  graded(
    checklist.mutex,
    "a lock whose kind word another process overwrote is refused with ERR_SEGMENT_CORRUPT by every operation, on a fresh open() and on a handle opened before: a priority-protect kind (the C library would abort) and a non-robust kind held by a dead thread (it would wait forever)",
    async () => {
      const name = sandbox.segment('kind');
      const store = ShmStore.create(name, { capacity: 16 * 1024, maxObjects: 8, lockTimeoutMs: 1000 });
      const ids = [store.put(Buffer.from('kept'))];
      const page = readSegment(name, 0, 4096);
      const found = robustMutexKindOffsets(page);
      expect(found, 'the store\'s robust pthread mutex, found in the segment\'s first 4 KiB by its kind word (at most one such word)').toHaveLength(1);
      const kindAt = found[0] as number;
      const kind = page.readUInt32LE(kindAt);
      // A thread id that names no running thread: a process that has exited and been reaped.
      const dead = spawnSync(process.execPath, ['-e', '']).pid;
      expect(dead, 'a finished process\'s pid').toBeGreaterThan(0);
      const cases: ReadonlyArray<{ what: string; kind: number; lock: number }> = [
        // glibc takes a priority-protect mutex's ceiling from its lock word; a ceiling of 0 fails an
        // assertion inside the C library, which aborts the process that locks.
        { what: 'the kind word made priority-protect (0x40), the lock free', kind: (kind & ~0x10) | 0x40, lock: 0 },
        // A mutex that is not robust has no owner-died: a lock word naming a dead thread is locked for good.
        { what: 'the kind word made not robust, the lock word naming a dead thread', kind: kind & ~0x10, lock: dead },
        { what: 'the kind word zeroed (a plain timed mutex), the lock word naming a dead thread', kind: 0, lock: dead },
      ];
      const child = await spawnChild({ label: 'locker' });
      await child.run(fx, 'attach', { name, lockTimeoutMs: 50 });
      for (const c of cases) {
        writeSegment(name, kindAt - 16, encodeLE(BigInt(c.lock), 4));
        writeSegment(name, kindAt, encodeLE(BigInt(c.kind), 4));
        for (const held of [true, false]) {
          const what = `${c.what} (kind 0x${c.kind.toString(16)}, lock ${c.lock}), ${held ? 'a handle opened before' : 'a fresh open()'}`;
          const out = await probeDamaged(child, what, { name, ids, held, lockTimeoutMs: 50 });
          for (const o of out) {
            const expected = o.op === 'close' ? ['ok'] : o.op === 'open' ? ['ok', 'ERR_SEGMENT_CORRUPT', 'ERR_LAYOUT_MISMATCH'] : ['ERR_SEGMENT_CORRUPT'];
            expect(expected, `${what}: ${o.op} gave ${o.result}: ${o.message ?? ''}`).toContain(o.result);
          }
        }
        writeSegment(name, kindAt - 16, page.subarray(kindAt - 16, kindAt + 4));
      }
      expect(await howEnded(child, 10), 'the locker survives every case').toBe('alive');
      expect(store.get(store.put(Buffer.from('restored'))).toString(), 'the store works once the lock is restored').toBe('restored');
      expect(store.get(ids[0] as ObjectId).toString(), 'the object put before is intact').toBe('kept');
      store.close();
    },
    { weight: Severity.data, timeoutMs: 60_000 },
  );
});
