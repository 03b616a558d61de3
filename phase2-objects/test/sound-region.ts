// The invariants of a sound data region, read straight from the segment (layout.h): what every
// allocator test checks after each change, in the public suite and the hidden one.
import { expect } from 'vitest';

import type { BlockWalk, ComponentBench } from '../components.js';

// The invariants of a sound data region, with a message naming the first one broken.
export function expectSound(bench: ComponentBench, when: string): BlockWalk {
  const walk = bench.allocator.blocks();
  const s = bench.allocator.stats();
  expect(walk.broken, `${when}: the blocks must tile the region and the free list stay inside it`).toBe('');
  let at = s.dataOffset;
  let prevSize = 0;
  let prevFree = false;
  let used = 0;
  for (const b of walk.blocks) {
    expect(b.offset, `${when}: blocks follow each other with no gap`).toBe(at);
    expect(b.magicOk, `${when}: block at ${b.offset} has its magic`).toBe(true);
    expect(b.prevSize, `${when}: block at ${b.offset} knows its previous neighbour's size`).toBe(prevSize);
    expect(b.free === 1 && prevFree, `${when}: two free neighbours at ${b.offset} were not merged`).toBe(false);
    if (b.free === 0) used += b.size;
    prevFree = b.free === 1;
    prevSize = b.size;
    at += b.size;
  }
  expect(at, `${when}: the last block ends where the region ends`).toBe(s.segmentSize);
  const free = walk.blocks.filter((b) => b.free === 1).map((b) => b.offset);
  expect([...walk.freeList].sort((x, y) => x - y), `${when}: the free list holds exactly the free blocks`).toEqual(free);
  expect(s.freeBlocks, `${when}: freeBlocks`).toBe(free.length);
  expect(s.usedBytes, `${when}: usedBytes counts allocated blocks, headers included`).toBe(used);
  return walk;
}
