// Fixtures for release.test.ts. They run in a child process started with --expose-gc, where the
// test decides when garbage is collected: a ref dropped there is collected by the next gc(), and
// the runtime's FinalizationRegistry callbacks run in a task soon after.
import { performance } from 'node:perf_hooks';

import type { FixtureContext } from '../../testkit/protocol.js';
import { init, type InitOptions, type Runtime } from '../index.js';
import type * as Tasks from './tasks.js';
import { TASKS } from './helpers.js';

type NoArgs = Record<string, never>;

let rt: Runtime | undefined;

function runtime(): Runtime {
  if (rt === undefined) throw new Error('start() first');
  return rt;
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('this child needs --expose-gc');
  collect();
}

const objects = (): number => runtime().stats().store.objectCount;
const pinned = (): number => runtime().stats().store.pinned;

// Collects garbage every 10 ms, letting finalizers run in between, until done() holds or `ms` have
// passed. Returns whether it held, and after how many collections.
async function collectUntil(done: () => boolean, ms: number): Promise<{ held: boolean; collections: number }> {
  const deadline = performance.now() + ms;
  let collections = 0;
  for (;;) {
    gc();
    collections += 1;
    await new Promise((resolve) => setTimeout(resolve, 10)); // finalizers run in a later task
    if (done()) return { held: true, collections };
    if (performance.now() > deadline) return { held: false, collections };
  }
}

export async function start(args: { segments: NonNullable<InitOptions['segments']> }, _ctx: FixtureContext): Promise<number> {
  rt = await init({ workers: 1, memory: 4 << 20, maxObjects: 64, segments: args.segments });
  return objects();
}

export async function stop(_args: NoArgs): Promise<void> {
  await rt?.shutdown();
  rt = undefined;
}

export interface DroppedRef {
  readonly whileHeld: number; // objects more than at the start while both refs exist
  readonly release: { held: boolean; collections: number }; // the dropped one deleted
  readonly afterRelease: number;
  readonly keptIntact: boolean; // the ref still held reads back its bytes
}

// put() twice, drop one ref at once and hold the other: only the dropped one is deleted.
export async function droppedRef(_args: NoArgs): Promise<DroppedRef> {
  const r = runtime();
  const base = objects();
  (() => {
    r.put(Buffer.alloc(64 << 10, 7)); // the ref is dropped here
  })();
  const kept = r.put(Buffer.alloc(64 << 10, 9));
  const whileHeld = objects() - base;
  const release = await collectUntil(() => objects() === base + 1, 20_000);
  const afterRelease = objects() - base;
  const back = await r.get(kept, { timeoutMs: 5000 });
  const keptIntact = back.length === 64 << 10 && back.every((b) => b === 9);
  r.free(kept);
  return { whileHeld, release, afterRelease, keptIntact };
}

export interface DroppedRefWithView {
  readonly pinnedByView: number;
  readonly earlyRelease: { held: boolean; collections: number }; // must not hold: the view pins it
  readonly objectsWhileViewed: number;
  readonly viewIntact: boolean; // after another object was written and freed
  readonly release: { held: boolean; collections: number }; // once the view is dropped too
  readonly afterRelease: { objects: number; pinned: number };
}

// get() hands out a zero-copy view; the ref is dropped but the view is held: the object stays
// (pinned) through many collections, and goes once the view is dropped too.
export async function droppedRefWithView(_args: NoArgs): Promise<DroppedRefWithView> {
  const r = runtime();
  const base = objects();
  let view: Buffer | null = await (async () => r.get(r.put(Buffer.alloc(256 << 10, 5)), { timeoutMs: 5000 }))();
  const pinnedByView = pinned();
  // For a second of collections the ref is gone but the view is not: nothing may be deleted.
  const earlyRelease = await collectUntil(() => objects() === base, 1000);
  const objectsWhileViewed = objects() - base;
  // Space the view's object would give back is not reused while the view can read it.
  const other = r.put(Buffer.alloc(256 << 10, 6));
  r.free(other);
  const viewIntact = view.every((b) => b === 5);
  view = null;
  const release = await collectUntil(() => objects() === base && pinned() === 0, 20_000);
  return { pinnedByView, earlyRelease, objectsWhileViewed, viewIntact, release, afterRelease: { objects: objects() - base, pinned: pinned() } };
}

export interface DroppedTaskRef {
  readonly release: { held: boolean; collections: number };
  readonly after: { objects: number; tasks: number };
  readonly completed: number;
}

// The ref of a task that has not run yet is dropped: its result is deleted when it arrives, and
// its call object when the task is collected.
export async function droppedTaskRef(_args: NoArgs): Promise<DroppedTaskRef> {
  const r = runtime();
  const base = objects();
  const before = r.stats().scheduler.completed;
  (() => {
    r.remote<typeof Tasks.pattern>(TASKS, 'pattern').remote(128 << 10, 3); // the ref is dropped here
  })();
  const release = await collectUntil(() => r.stats().scheduler.completed === before + 1 && objects() === base && r.stats().scheduler.tasks === 0, 30_000);
  const s = r.stats();
  return { release, after: { objects: s.store.objectCount - base, tasks: s.scheduler.tasks }, completed: s.scheduler.completed - before };
}
