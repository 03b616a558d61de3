// Child-process code for the glue self-tests of phases 2 and 4 (both bind their get path with
// native-common's store_handle.h): calls a program could make on the raw addon (its methods bound
// to one handle, ids in every form), run where a crash is seen as the child's signal.
import { collect } from '../../../testkit/addon-safety-fixtures.js';
import { attempt, type OpOutcome } from '../../../testkit/hostile.js';
import type { Fixture } from '../../../testkit/protocol.js';
import { idBytes, idHex } from '../../../lib/ids.js';
import { loadAddon } from '../../../lib/native.js';
import { ObjectStore as Phase2Store } from '../../../phase2-objects/index.js';
import { ObjectStore as Phase4Store } from '../../../phase4-optimize/index.js';

interface RawStore {
  locate(id: unknown, timeoutMs?: unknown): void;
  release(id: unknown): void;
  contains(id: unknown): boolean;
  scratch(): Float64Array;
  close(): void;
}
export type StorePhase = 'phase2' | 'phase4';

// The harness's store, for what the test does not ask of the raw addon.
interface Harness {
  put(data: Uint8Array): string & Parameters<typeof idBytes>[0];
  stats(): { clients: number; pinned: number };
  close(): void;
}

const create = (phase: StorePhase, name: string): Harness =>
  phase === 'phase2'
    ? Phase2Store.create(name, { capacity: 1 << 16, tableSize: 16 })
    : Phase4Store.create(name, { capacity: 1 << 18, stripes: 4, slotsPerStripe: 8 });

export interface BoundReport {
  ids: OpOutcome[];
  foreignThis: OpOutcome[];
  keptAlive: { contains: boolean; clients: number; pinnedWhileKept: number };
  collected: { clients: number; pinned: number };
  closed: OpOutcome[];
  scratch: { same: boolean; lengthAfterTransfer: number; located: number[] };
}

// The methods of the get path (locate, release, contains) are functions bound to their handle:
// whatever `this` they are called with, however long they outlive the object they came from.
export const boundMethods: Fixture<{ name: string; phase?: StorePhase }, BoundReport> = async ({ name, phase = 'phase2' }) => {
  const open = (n: string): RawStore => loadAddon<{ open(n: string, t: number): RawStore }>(phase).open(n, 5000);
  const store = create(phase, name);
  try {
    const id = store.put(Buffer.from('bound methods'));
    const bytes = idBytes(id);
    const raw = open(name);
    const base = store.stats();
    const ids = [
      attempt('contains(20 bytes)', () => raw.contains(bytes)),
      attempt('contains(40 hex digits)', () => raw.contains(idHex(bytes))),
      attempt('contains(19 bytes)', () => raw.contains(new Uint8Array(19))),
      attempt('contains(a Float32Array of 20 bytes)', () => raw.contains(new Float32Array(5))),
      attempt('contains(42)', () => raw.contains(42)),
      attempt('locate(id, "5")', () => raw.locate(bytes, '5')),
      attempt('locate(id, 2^63)', () => raw.locate(bytes, 2 ** 63)),
      attempt('release(nothing)', () => (raw.release as () => void)()),
    ];
    const foreignThis = [
      attempt('locate.call({})', () => raw.locate.call({}, bytes)),
      attempt('release.call(undefined)', () => Reflect.apply(raw.release, undefined, [bytes])),
      attempt('contains.call(another store)', () => Reflect.apply(raw.contains, store, [bytes])),
    ];
    const sc = raw.scratch();
    raw.locate(bytes);
    const located = [sc[0] as number, sc[1] as number];
    raw.release(bytes);
    structuredClone(sc.buffer, { transfer: [sc.buffer] });
    const scratch = { same: raw.scratch() === sc, lengthAfterTransfer: sc.length, located };

    // A second handle: its wrapper dropped, its methods kept. It stays open (a client with a pin)
    // while they can be called, and gives everything back once they are collected too.
    let kept: Pick<RawStore, 'locate' | 'contains'> | undefined = ((): Pick<RawStore, 'locate' | 'contains'> => {
      const other = open(name);
      return { locate: other.locate, contains: other.contains };
    })();
    await collect();
    kept.locate(bytes);
    const keptAlive = { contains: kept.contains(bytes), clients: store.stats().clients - base.clients, pinnedWhileKept: store.stats().pinned - base.pinned };
    kept = undefined;
    await collect();
    const after = store.stats();
    const collected = { clients: after.clients - base.clients, pinned: after.pinned - base.pinned };

    raw.close();
    const closed = [
      attempt('locate after close()', () => raw.locate(bytes)),
      attempt('release after close()', () => raw.release(bytes)),
      attempt('contains after close()', () => raw.contains(bytes)),
      attempt('scratch after close()', () => raw.scratch()),
    ];
    return { ids, foreignThis, keptAlive, collected, closed, scratch };
  } finally {
    store.close();
  }
};
