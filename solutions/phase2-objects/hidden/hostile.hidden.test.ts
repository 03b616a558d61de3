// Hidden suite, checklist 2.6: a hostile segment. Every field of the header, of a table entry, of
// a block header (allocated and free), of a client record and of the journal is overwritten with
// adversarial values, one at a time, in a live segment; then another process runs every
// operation, through a handle it opened before the damage and through one it opens after. Each
// operation either works or fails with a typed error; nothing may kill that process.
//
// Not fuzzed: the bytes of the pthread mutex itself. A pthread_mutex_t of garbage is undefined
// behaviour for glibc (which may abort on it), and nothing can validate one before using it.
import { describe, expect } from 'vitest';

import { fixtures, spawnChild } from '../../../testkit/children.js';
import { Severity, graded } from '../../../testkit/graded.js';
import { useSandbox } from '../../../testkit/sandbox.js';
import { checklist } from '../../../phase2-objects/checklist.js';
import { ObjectStore, randomObjectId, type ObjectId } from '../../../phase2-objects/index.js';
import { blockOffset, fieldAt, poke, readU64, slotOffset } from '../../../phase2-objects/test/fixtures.js';

const sandbox = useSandbox();
const item = checklist.stress;
const hx = fixtures<typeof import('./fixtures.js')>(new URL('./fixtures.ts', import.meta.url));

type Width = 4 | 8;
type Target = 'header' | 'sealed-entry' | 'unsealed-entry' | 'block' | 'free-block' | 'client' | 'journal-record';

const FIELDS: ReadonlyArray<readonly [Target, string, Width]> = [
  ['header', 'header.magic', 8],
  ['header', 'header.version', 4],
  ['header', 'header.state', 4],
  ['header', 'header.segmentSize', 8],
  ['header', 'header.sealSeq', 4],
  ['header', 'header.repair', 4],
  ['header', 'header.sealedCount', 8],
  ['header', 'header.clientSerial', 8],
  ['header', 'header.table.offset', 8],
  ['header', 'header.table.slots', 8],
  ['header', 'header.table.live', 8],
  ['header', 'header.table.tombstones', 8],
  ['header', 'header.allocator.begin', 8],
  ['header', 'header.allocator.end', 8],
  ['header', 'header.allocator.freeHead', 8],
  ['header', 'header.allocator.usedBytes', 8],
  ['header', 'header.allocator.freeBlocks', 8],
  ['header', 'header.journal.count', 4],
  ['journal-record', 'offset', 8],
  ['journal-record', 'old', 8],
  ['sealed-entry', 'entry.id', 8],
  ['sealed-entry', 'entry.state', 4],
  ['sealed-entry', 'entry.offset', 8],
  ['sealed-entry', 'entry.size', 8],
  ['sealed-entry', 'entry.creator', 4],
  ['sealed-entry', 'entry.pins', 8],
  ['unsealed-entry', 'entry.state', 4],
  ['unsealed-entry', 'entry.creator', 4],
  ['unsealed-entry', 'entry.pins', 8],
  ['block', 'block.size', 8],
  ['block', 'block.prevSize', 8],
  ['block', 'block.magic', 4],
  ['block', 'block.free', 4],
  ['free-block', 'block.size', 8],
  ['free-block', 'block.prevSize', 8],
  ['free-block', 'block.free', 4],
  ['free-block', 'block.nextFree', 8],
  ['free-block', 'block.prevFree', 8],
  ['client', 'client.pid', 4],
  ['client', 'client.startTime', 8],
  ['client', 'client.state', 4],
];

// Adversarial values for a field of `width` bytes in a segment of `size` bytes.
function values(width: Width, size: number, seed: number): bigint[] {
  let x = BigInt(seed) * 0x9e3779b97f4a7c15n + 1n;
  const random = (): bigint => {
    x = (x * 6364136223846793005n + 1442695040888963407n) & 0xffff_ffff_ffff_ffffn;
    return x;
  };
  const max = width === 4 ? 0xffff_ffffn : 0xffff_ffff_ffff_ffffn;
  const all = [0n, 1n, max, max >> 1n, BigInt(size - 8), random() & max];
  return [...new Set(all.map((v) => v & max))];
}

function encode(value: bigint, width: Width): Buffer {
  const b = Buffer.alloc(width);
  if (width === 4) b.writeUInt32LE(Number(value));
  else b.writeBigUInt64LE(value);
  return b;
}

interface Damage {
  readonly target: Target;
  readonly field: string;
  readonly width: Width;
  readonly value: bigint;
}

// A store with a sealed object, an unsealed one, a pinned one and free space; returns where the
// damage goes.
function prepare(name: string): { store: ObjectStore; sealed: ObjectId; unsealed: ObjectId; at: (t: Target) => number } {
  const store = ObjectStore.create(name, { capacity: 1 << 16, tableSize: 32, lockTimeoutMs: 300 });
  const sealed = store.put(Buffer.alloc(1000, 1));
  const unsealed = randomObjectId();
  store.create(unsealed, 500).fill(2);
  const pinned = store.put(Buffer.alloc(700, 3));
  const block = blockOffset(name, sealed);
  store.get(pinned);
  const client = fieldAt('header.clients') + store.debug.layout().client * (ObjectStore.layoutInfo()['size.client'] ?? 0);
  const at = (t: Target): number => {
    switch (t) {
      case 'header':
        return 0;
      case 'journal-record':
        return fieldAt('header.journal.records');
      case 'sealed-entry':
        return slotOffset(name, sealed);
      case 'unsealed-entry':
        return slotOffset(name, unsealed);
      case 'block':
        return block;
      case 'free-block':
        return readU64(name, fieldAt('header.allocator.freeHead'));
      case 'client':
        return client;
    }
  };
  return { store, sealed, unsealed, at };
}

describe('phase 2 (hidden): a hostile segment', () => {
  graded(
    item,
    'every field of a live segment overwritten with adversarial values: every operation from another process gives a result or a typed error, never a signal',
    async () => {
      const child = await spawnChild({ label: 'victim of the damage' });
      const size = (() => {
        const probe = sandbox.segment('size');
        const s = ObjectStore.create(probe, { capacity: 1 << 16, tableSize: 32 });
        const n = s.stats().segmentSize;
        s.close();
        ObjectStore.unlink(probe);
        return n;
      })();
      let cases = 0;
      for (const [target, field, width] of FIELDS) {
        for (const value of values(width, size, cases)) {
          const damage: Damage = { target, field, width, value };
          const name = sandbox.segment('hostile');
          const { store, sealed, unsealed, at } = prepare(name);
          const key = `case-${cases}`;
          await child.run(hx, 'openHandle', { name, key });
          const offset = at(target) + (target === 'journal-record' ? (field === 'old' ? 8 : 0) : fieldAt(field));
          if (target === 'journal-record') poke(name, fieldAt('header.journal.count'), encode(1n, 4));
          poke(name, offset, encode(value, width));
          let out: string[];
          try {
            out = await child.run(hx, 'runEverything', { name, key, sealed, unsealed }, 20_000);
          } catch (e) {
            throw new Error(`${target} ${field} = ${value}: the child ${(e as Error).message}`, { cause: e });
          }
          const untyped = out.filter((o) => o !== 'ok' && !/^ERR_[A-Z_]+$/.test(o));
          expect(untyped, `${damage.target} ${damage.field} (${damage.width} bytes) = ${damage.value}`).toEqual([]);
          store.close();
          ObjectStore.unlink(name);
          cases += 1;
        }
      }
      expect(child.alive, 'the child lived through every case').toBe(true);
      expect(cases).toBeGreaterThan(150);
    },
    { weight: Severity.data, timeoutMs: 180_000 },
  );
});
