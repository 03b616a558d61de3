// Phase 2's crash-point scenarios: each prepares a store, runs one operation in a forked child of
// the fault-injection build (phase2_crash), and after the child died (or finished) checks that
// the survivors find a whole store: the checker passes, every object sealed before is intact, the
// operation in flight happened entirely or not at all, what the dead child held is given back,
// and the store keeps working to its last byte.
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { MiniRayError } from '../../../lib/errors.js';
import { BUILD_DIR } from '../../../lib/phases.js';
import { buildTarget } from '../../../tools/build.js';
import { expect, test } from 'vitest';

import { exploreCrashPoints, formatCoverage, sampleFromEnv, type CrashScenario, type Death, type TrialResult } from '../../../testkit/crash-points.js';
import { patternBytes, sha1 } from '../../../testkit/data.js';
import { removeTrackedSegments, trackSegment, uniqueSegmentName } from '../../../testkit/segments.js';
import { ObjectStore, type ObjectId } from '../../../phase2-objects/index.js';

// One operation of a child's script (solutions/phase2-objects/crash/trials.cc).
export type Step =
  | { readonly op: 'create'; readonly id: ObjectId; readonly data: Uint8Array }
  | { readonly op: 'put'; readonly id: ObjectId; readonly data: Uint8Array }
  | { readonly op: 'seal' | 'abort' | 'delete' | 'get' | 'release'; readonly id: ObjectId }
  | { readonly op: 'close' | 'reclaim' };

interface CrashAddon {
  setErrorClass(ctor: typeof MiniRayError): void;
  trial(name: string, script: readonly Step[], crashAt: string, crashLog: string, timeoutMs: number): TrialResult;
}

let addon: CrashAddon | undefined;
// The reference built with its crash points (binding.gyp's phase2_crash), built here on first use:
// no other suite needs it.
export function crashAddon(): CrashAddon {
  if (addon === undefined) {
    const status = buildTarget('phase2_crash');
    if (!status.ok) throw new Error(`phase2_crash does not build:\n${status.diagnostics.join('\n')}`);
    const require = createRequire(import.meta.url);
    addon = require(join(BUILD_DIR, 'Release', 'phase2_crash.node')) as CrashAddon;
    addon.setErrorClass(MiniRayError);
  }
  return addon;
}

const TRIAL_TIMEOUT_MS = 10_000;

// Ids and bytes that are the same in every prepare() of a scenario, so that every trial meets the
// same table and the same blocks.
export function fixedId(scenario: string, n: number): ObjectId {
  return sha1(Buffer.from(`${scenario}/${n}`)) as ObjectId;
}

// The first ids (in a fixed order) whose home slot in a `slots`-slot table is `bucket`.
export function fixedColliding(scenario: string, count: number, slots: number, bucket: number): ObjectId[] {
  const out: ObjectId[] = [];
  for (let n = 0; out.length < count; n += 1) {
    const id = fixedId(`${scenario}/collide`, n);
    if (ObjectStore.bucketOf(id, slots) === bucket) out.push(id);
  }
  return out;
}

export interface State {
  readonly name: string;
  readonly store: ObjectStore; // the survivor: the test's own handle (the reference, normal build)
  readonly sealed: Map<ObjectId, string>; // sealed before the operation: id -> sha1
  readonly unsealed: Map<ObjectId, Buffer>; // created (not sealed) by the survivor: id -> its view
  readonly script: readonly Step[];
  readonly removable: ReadonlySet<ObjectId>; // the operation may remove these
  readonly creates: ReadonlyMap<ObjectId, string>; // the operation may seal these: id -> sha1
}

// What a scenario's setup does in the survivor before the child runs.
export class Setup {
  readonly sealed = new Map<ObjectId, string>();
  readonly unsealed = new Map<ObjectId, Buffer>();
  private next = 0;

  constructor(
    readonly scenario: string,
    readonly name: string,
    readonly store: ObjectStore,
  ) {}

  bytes(size: number): Buffer {
    this.next += 1;
    return patternBytes(this.next * 7919 + size, size);
  }

  put(size: number, id: ObjectId = fixedId(this.scenario, 1000 + this.next)): ObjectId {
    const data = this.bytes(size);
    this.store.put(data, id);
    this.sealed.set(id, sha1(data));
    return id;
  }

  delete(id: ObjectId): void {
    this.store.delete(id);
    this.sealed.delete(id);
  }

  createUnsealed(size: number, id: ObjectId): ObjectId {
    const view = this.store.create(id, size);
    view.set(this.bytes(size));
    this.unsealed.set(id, view);
    return id;
  }

  // Runs a script in a child to its end, before the operation under test (a child that leaves
  // pins and unsealed objects behind, or one killed at `crashAt`).
  child(script: readonly Step[], crashAt = ''): void {
    const r = crashAddon().trial(this.name, script, crashAt, '', TRIAL_TIMEOUT_MS);
    const wanted = crashAt === '' ? 'completed' : 'killed';
    if (r.outcome !== wanted) throw new Error(`${this.scenario}: setup child ${r.outcome} ${r.error}`);
  }
}

export interface ScenarioSpec {
  readonly name: string;
  readonly capacity?: number;
  readonly tableSize?: number;
  // Builds the state before the operation and returns the operation.
  setup(s: Setup): {
    readonly script: readonly Step[];
    readonly removable?: readonly ObjectId[];
    readonly creates?: ReadonlyArray<{ readonly id: ObjectId; readonly data: Uint8Array }>;
  };
}

function fail(message: string): never {
  throw new Error(message);
}

function codeOf(e: unknown): string {
  return e instanceof MiniRayError ? e.code : String(e);
}

// What every death must leave: see the top of this file.
export function verifyState(state: State, death: Death | undefined): void {
  const { store, name } = state;
  // The survivor's next locked operation repairs; reclaim() gives back what the dead child held
  // (its client record is open with a dead owner, whether it died holding the lock or not).
  store.reclaim();
  const report = ObjectStore.check(name);
  if (!report.ok) fail(`the checker found: ${report.problems.join('; ')}`);
  if (report.openTransaction !== 0 || report.repairPending) fail('recovery left an open transaction or a repair');
  const others = report.clients.filter((c) => c.pid !== process.pid);
  if (others.length > 0) fail(`clients of dead processes were not reclaimed: ${JSON.stringify(others)}`);

  // Sealed before: intact (or removed, when removing it was the operation).
  let expected = 0;
  for (const [id, digest] of state.sealed) {
    if (state.removable.has(id) && !store.contains(id)) continue;
    expected += 1;
    let view: Buffer;
    try {
      view = store.get(id);
    } catch (e) {
      fail(`object ${id}, sealed before the operation, is gone (${codeOf(e)})`);
    }
    if (sha1(view) !== digest) fail(`object ${id}, sealed before the operation, was corrupted`);
    store.release(id);
  }
  // The survivor's own unsealed objects: their creator lives, so they stay, unsealed (or sealed,
  // when sealing them was the operation), with the bytes the survivor wrote.
  for (const [id, written] of state.unsealed) {
    expected += 1;
    if (store.contains(id)) {
      const view = store.get(id);
      if (!view.equals(written)) fail(`object ${id}, sealed by the operation, has the wrong bytes`);
      store.release(id);
      continue;
    }
    let code = 'ok';
    try {
      store.get(id);
    } catch (e) {
      code = codeOf(e);
    }
    if (code !== 'ERR_TIMEOUT') fail(`the survivor's unsealed object ${id} is not there as it was (${code})`);
  }
  // What the operation creates: sealed and whole, or not there at all (an unsealed object of a
  // dead creator was reclaimed).
  for (const [id, digest] of state.creates) {
    if (state.unsealed.has(id)) continue;
    if (!store.contains(id)) {
      let code = 'ok';
      try {
        store.get(id);
        store.release(id);
      } catch (e) {
        code = codeOf(e);
      }
      if (code !== 'ERR_OBJECT_NOT_FOUND') fail(`object ${id} is half there (${code})`);
      continue;
    }
    expected += 1;
    const view = store.get(id);
    if (sha1(view) !== digest) fail(`object ${id}, sealed by the operation, has the wrong bytes`);
    store.release(id);
  }
  const stats = store.stats();
  if (stats.objectCount !== expected) {
    fail(`the store holds ${stats.objectCount} objects; ${expected} are accounted for`);
  }
  if (stats.pinned !== state.unsealed.size) {
    fail(`${stats.pinned} pins remain; only the survivor's ${state.unsealed.size} creator pin(s) should`);
  }

  // Keep using it: a new object, then everything removed, then one object of nearly the whole
  // capacity (the free space is one block again).
  const fresh = fixedId('fresh', death?.passage ?? 0);
  const data = patternBytes(99, 1234);
  store.put(data, fresh);
  if (sha1(store.get(fresh)) !== sha1(data)) fail('a put after the recovery reads back wrong');
  store.release(fresh);
  for (const id of state.unsealed.keys()) {
    if (store.contains(id)) store.release(id);
    else store.abort(id);
  }
  for (const id of [...state.sealed.keys(), ...state.creates.keys(), ...state.unsealed.keys(), fresh]) {
    if (store.contains(id)) store.delete(id);
  }
  const empty = store.stats();
  if (empty.objectCount !== 0 || empty.usedBytes !== 0 || empty.pinned !== 0) {
    fail(`after removing everything: ${empty.objectCount} objects, ${empty.usedBytes} bytes used, ${empty.pinned} pins`);
  }
  if (empty.largestFree < empty.capacity - 64 || empty.freeBlocks !== 1) {
    fail(`the free space is in pieces: ${JSON.stringify(empty)}`);
  }
  const big = fixedId('big', 0);
  store.create(big, empty.largestFree);
  store.abort(big);
  const after = ObjectStore.check(name);
  if (!after.ok) fail(`after reuse the checker found: ${after.problems.join('; ')}`);
}

export function scenario(spec: ScenarioSpec): CrashScenario<State> {
  return {
    name: spec.name,
    prepare(): State {
      const name = uniqueSegmentName('crash');
      trackSegment(name);
      const store = ObjectStore.create(name, {
        capacity: spec.capacity ?? 64 * 1024,
        tableSize: spec.tableSize ?? 64,
        lockTimeoutMs: 5000,
      });
      try {
        const s = new Setup(spec.name, name, store);
        const op = spec.setup(s);
        return {
          name,
          store,
          sealed: s.sealed,
          unsealed: s.unsealed,
          script: op.script,
          removable: new Set(op.removable ?? []),
          creates: new Map((op.creates ?? []).map((c) => [c.id, sha1(c.data)])),
        };
      } catch (e) {
        store.close();
        throw e;
      }
    },
    trial(state, crashAt, crashLog): TrialResult {
      return crashAddon().trial(state.name, state.script, crashAt, crashLog, TRIAL_TIMEOUT_MS);
    },
    verify(state, death, result): void {
      if (death === undefined && result.outcome !== 'completed') fail(`the child ${result.outcome}: ${result.error}`);
      verifyState(state, death);
    },
    dispose(state): void {
      state.store.close();
      try {
        ObjectStore.unlink(state.name);
      } catch {
        // already gone
      }
    },
  };
}

export function cleanup(): void {
  removeTrackedSegments();
}

// One test per scenario: killed at every crash point it passes, at every passage (past the 120th
// passage of a point, at 80 more spread evenly to its last: testkit/crash-points.ts; verify samples
// further with MINIRAY_CRASH_SAMPLE).
export function testEveryCrashPoint(cases: ReadonlyArray<CrashScenario<State>>): void {
  for (const c of cases) {
    test(`killed at every crash point of "${c.name}", the survivors find a whole store`, () => {
      const report = exploreCrashPoints(c, sampleFromEnv());
      console.log(formatCoverage(report));
      expect(report.points.length).toBeGreaterThan(0);
    }, 300_000);
  }
}
