// Objects no one holds are deleted: refs and views dropped without free() are found by the
// runtime's FinalizationRegistry. Garbage collection is made deterministic by running the runtime
// in a child process started with --expose-gc, which collects when the scenario says so (a bounded
// loop of gc() calls) and reports what the store held at each point.
import { describe, expect, it } from 'vitest';

import { spawnChild, fixtures, type Child } from '../../testkit/children.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { testSegments } from './helpers.js';

useSandbox();

const GC = fixtures<typeof import('./gc-fixtures.js')>(new URL('./gc-fixtures.ts', import.meta.url));
const SLOW = { timeout: 150_000 };
const WAIT_MS = 90_000; // a loaded machine starts worker processes slowly

async function withGcChild(tag: string, body: (child: Child) => Promise<void>): Promise<void> {
  const nodeOptions = `${process.env.NODE_OPTIONS ?? ''} --expose-gc`.trim();
  const child = await spawnChild({ label: `gc-${tag}`, env: { NODE_OPTIONS: nodeOptions }, timeoutMs: WAIT_MS });
  await child.run(GC, 'start', { segments: testSegments(`gc-${tag}`) }, WAIT_MS);
  await body(child);
  await child.run(GC, 'stop', {}, WAIT_MS);
}

describe('objects no one holds are deleted (FinalizationRegistry)', SLOW, () => {
  it('a dropped ref is deleted after a collection; a ref still held is not, and reads back intact', async () => {
    await withGcChild('ref', async (child) => {
      const r = await child.run(GC, 'droppedRef', {}, WAIT_MS);
      expect(r.whileHeld).toBe(2);
      expect(r.release.held).toBe(true);
      expect(r.afterRelease).toBe(1);
      expect(r.keptIntact).toBe(true);
    });
  });

  it('a dropped ref whose zero-copy view is still reachable stays pinned and intact; dropping the view deletes it', async () => {
    await withGcChild('view', async (child) => {
      const r = await child.run(GC, 'droppedRefWithView', {}, WAIT_MS);
      expect(r.pinnedByView).toBe(1);
      expect(r.earlyRelease.held).toBe(false); // a second of collections: not deleted too early
      expect(r.earlyRelease.collections).toBeGreaterThan(5);
      expect(r.objectsWhileViewed).toBe(1);
      expect(r.viewIntact).toBe(true);
      expect(r.release.held).toBe(true);
      expect(r.afterRelease).toEqual({ objects: 0, pinned: 0 });
    });
  });

  it('the dropped ref of a task not yet run: its result is deleted when it arrives, and nothing is left', async () => {
    await withGcChild('task', async (child) => {
      const r = await child.run(GC, 'droppedTaskRef', {}, WAIT_MS);
      expect(r.release.held).toBe(true);
      expect(r.completed).toBe(1);
      expect(r.after).toEqual({ objects: 0, tasks: 0 });
    });
  });
});
