// Checklist 2.2: the allocator on its own (src/allocator.cc), before any ObjectStore exists.
// These tests need nothing but Allocator: they pass as soon as the free list is right. The block
// headers are read straight from the segment (layout.h), so they show what another process sees.
import { describe, expect } from 'vitest';

import { graded, Severity } from '../../testkit/graded.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { checklist } from '../checklist.js';
import { ComponentBench } from '../components.js';
import { expectSound } from './sound-region.js';

const sandbox = useSandbox();
const item = checklist.space;
const HEADER = 64;
const DATA = 64 * 1024;

function allocator(dataBytes = DATA): ComponentBench {
  const bench = ComponentBench.create(sandbox.segment('alloc'), { slots: 4, dataBytes });
  bench.allocator.init();
  return bench;
}

describe('phase 2: the allocator on its own', () => {
  graded(
    item,
    'Init: the whole data region is one free block on the free list, nothing used, and largestFree is the region less one header',
    () => {
      const bench = allocator();
      const s = bench.allocator.stats();
      expect([s.begin, s.end], 'AllocatorHeader begin and end').toEqual([s.dataOffset, s.segmentSize]);
      const walk = expectSound(bench, 'after Init');
      expect(walk.blocks, 'one block').toHaveLength(1);
      expect(walk.blocks[0]?.free, 'and it is free').toBe(1);
      expect(walk.freeList, 'the free list starts at it').toEqual([s.dataOffset]);
      expect(s.largestFree).toBe(s.segmentSize - s.dataOffset - HEADER);
      bench.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'allocate splits: the payload is 64-aligned right after its header, the block is header + size rounded up to 64, and the rest stays free',
    () => {
      const bench = allocator();
      const s0 = bench.allocator.stats();
      const sizes = [100, 0, 64, 1, 1000];
      const payloads = sizes.map((n) => bench.allocator.allocate(n));
      const walk = expectSound(bench, 'after five allocations');
      sizes.forEach((n, i) => {
        const p = payloads[i] as number;
        expect(p % 64, `payload #${i} is 64-byte aligned`).toBe(0);
        const block = walk.blocks.find((b) => b.offset === p - HEADER);
        expect(block, `payload #${i} (${n} bytes) starts one header after a block`).toBeDefined();
        expect(block?.free, `block #${i} is allocated`).toBe(0);
        expect(block?.size, `block #${i}: a header plus ${n} bytes rounded up to 64`).toBe(HEADER + Math.ceil(n / 64) * 64);
      });
      expect(walk.blocks.at(-1)?.free, 'the rest of the region is one free block').toBe(1);
      expect(bench.allocator.stats().largestFree).toBe(s0.largestFree - walk.blocks.slice(0, -1).reduce((t, b) => t + b.size, 0));
      bench.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'largestFree is exact: allocate(largestFree) takes the whole block, one byte more is ERR_SHM_FULL and changes nothing',
    () => {
      const bench = allocator();
      const first = bench.allocator.allocate(5000);
      const largest = bench.allocator.stats().largestFree;
      const before = bench.allocator.blocks();
      expect(() => bench.allocator.allocate(largest + 1), `largestFree + 1 = ${largest + 1} bytes`).toThrowMiniRay('ERR_SHM_FULL');
      expect(bench.allocator.blocks(), 'a refused allocate leaves every block as it was').toEqual(before);
      bench.allocator.allocate(largest);
      const walk = expectSound(bench, 'after the exact fit');
      expect(walk.blocks.every((b) => b.free === 0), 'nothing is left free').toBe(true);
      expect(bench.allocator.stats().largestFree).toBe(0);
      bench.allocator.free(first);
      expectSound(bench, 'after freeing the first block');
      bench.close();
    },
    { weight: Severity.behaviour },
  );

  graded(
    item,
    'free merges with free neighbours on both sides: three neighbours freed in the order 0, 2, 1 become one block, and a region freed entirely is one block again',
    () => {
      const bench = allocator();
      const s0 = bench.allocator.stats();
      const third = Math.floor((s0.segmentSize - s0.dataOffset) / 3 / 64) * 64 - 2 * HEADER;
      const [a, b, c] = [0, 1, 2].map(() => bench.allocator.allocate(third)) as [number, number, number];
      bench.allocator.free(a);
      expectSound(bench, 'after freeing #0');
      bench.allocator.free(c);
      expectSound(bench, 'after freeing #2 (it merges with the free rest after it)');
      bench.allocator.free(b);
      const walk = expectSound(bench, 'after freeing #1 between two free blocks');
      expect(walk.blocks, 'everything merged into one block').toHaveLength(1);
      expect(bench.allocator.stats().largestFree, 'as large as after Init').toBe(s0.largestFree);
      bench.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'free of anything but an allocated payload (a double free, an offset inside a block, outside the region) is ERR_SEGMENT_CORRUPT and changes nothing',
    () => {
      const bench = allocator();
      const a = bench.allocator.allocate(200);
      const b = bench.allocator.allocate(200);
      bench.allocator.free(a);
      const s = bench.allocator.stats();
      const before = bench.allocator.blocks();
      for (const [what, payload] of [
        ['a double free', a],
        ['an offset inside a block', b + 64],
        ['the region end', s.segmentSize],
        ['an offset before the region', s.dataOffset - 64],
      ] as const) {
        expect(() => bench.allocator.free(payload), what).toThrowMiniRay('ERR_SEGMENT_CORRUPT');
        expect(bench.allocator.blocks(), `after ${what}, every block as it was`).toEqual(before);
      }
      bench.allocator.free(b);
      expect(expectSound(bench, 'after the real free').blocks).toHaveLength(1);
      bench.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'allocate and free write every word through the journal: undone instead of committed, they leave every block and counter as it was',
    () => {
      const bench = allocator();
      const keep = [300, 5000, 64].map((n) => bench.allocator.allocate(n));
      bench.allocator.free(keep[1] as number);
      const snapshot = (): unknown => ({ blocks: bench.allocator.blocks(), stats: bench.allocator.stats() });
      const before = snapshot();
      bench.allocator.allocate(1000, { commit: false }); // splits the hole
      expect(snapshot(), 'after an allocate (with a split) that was undone').toEqual(before);
      bench.allocator.allocate(40_000, { commit: false }); // splits the rest at the end
      expect(snapshot(), 'after an allocate from the last block that was undone').toEqual(before);
      bench.allocator.free(keep[0] as number, { commit: false }); // merges with nothing
      expect(snapshot(), 'after a free that was undone').toEqual(before);
      bench.allocator.free(keep[2] as number, { commit: false }); // merges both ways
      expect(snapshot(), 'after a free that merges both ways, undone').toEqual(before);
      expectSound(bench, 'after four undone changes');
      bench.close();
    },
    { weight: Severity.data },
  );

  graded(
    item,
    'churn: 3,000 random allocations and frees keep the blocks tiling the region, no free neighbours unmerged, and the counters exact',
    () => {
      const bench = allocator(256 * 1024);
      const live: number[] = [];
      let x = 4242;
      const rand = (n: number): number => {
        x = (x * 1103515245 + 12345) >>> 0;
        return (x >>> 8) % n;
      };
      for (let step = 0; step < 3000; step += 1) {
        if (live.length === 0 || (live.length < 60 && rand(3) !== 0)) {
          const size = rand(4) === 0 ? rand(20_000) : rand(700);
          if (size <= bench.allocator.stats().largestFree) live.push(bench.allocator.allocate(size));
          else expect(() => bench.allocator.allocate(size), `step ${step}: ${size} bytes do not fit`).toThrowMiniRay('ERR_SHM_FULL');
        } else {
          bench.allocator.free(live.splice(rand(live.length), 1)[0] as number);
        }
        if (step % 50 === 0) expectSound(bench, `step ${step}`);
      }
      for (const p of live) bench.allocator.free(p);
      const walk = expectSound(bench, 'after freeing everything');
      expect(walk.blocks, 'one block again').toHaveLength(1);
      bench.close();
    },
    { weight: Severity.data, timeoutMs: 60_000 },
  );

  graded(
    item,
    'Check: a second allocator over the segment accepts the geometry Init wrote; begin or end that disagree with the mapping are ERR_LAYOUT_MISMATCH',
    () => {
      const bench = allocator();
      const p = bench.allocator.allocate(128);
      bench.allocator.check();
      bench.allocator.free(p);
      const s = bench.allocator.stats();
      for (const [field, value] of [
        ['allocator.end', s.segmentSize + 4096],
        ['allocator.end', s.begin],
        ['allocator.begin', s.begin + 13],
        ['allocator.begin', s.segmentSize + 64],
      ] as const) {
        bench.poke(field, value);
        expect(() => bench.allocator.check(), `${field} = ${value}`).toThrowMiniRay('ERR_LAYOUT_MISMATCH');
        bench.poke('allocator.begin', s.begin);
        bench.poke('allocator.end', s.end);
      }
      bench.allocator.check();
      expect(expectSound(bench, 'after the checks').blocks).toHaveLength(1);
      bench.close();
    },
    { weight: Severity.behaviour },
  );
});
