// Child-process code for the tests that attack a segment (untrusted.test.ts, the hidden fuzz): it runs
// every operation of the store and reports what each one did, so the parent can tell a typed error
// from a crash.
import { attempt, type OpOutcome } from '../../testkit/hostile.js';
import type { Fixture } from '../../testkit/protocol.js';
import { ShmStore, type ObjectId } from '../index.js';

// Handles opened before the segment was damaged (attach), kept across calls.
const held = new Map<string, ShmStore>();

export const attach: Fixture<{ name: string; lockTimeoutMs: number }, void> = ({ name, lockTimeoutMs }) => {
  held.get(name)?.close();
  held.set(name, ShmStore.open(name, { lockTimeoutMs }));
};

// Every operation once: open (unless `held`), stats, get of each id (reading every byte of the
// view) and of an id that is not there, put, lock and unlock, close.
export const probe: Fixture<
  { name: string; ids: readonly ObjectId[]; missing: ObjectId; held: boolean; lockTimeoutMs: number },
  OpOutcome[]
> = ({ name, ids, missing, held: useHeld, lockTimeoutMs }) => {
  const out: OpOutcome[] = [];
  let store = useHeld ? held.get(name) : undefined;
  if (!useHeld) {
    out.push(
      attempt('open', () => {
        store = ShmStore.open(name, { lockTimeoutMs });
      }),
    );
  }
  const s = store;
  if (s === undefined) return out;
  out.push(attempt('stats', () => s.stats()));
  ids.forEach((id, i) => out.push(attempt(`get #${i}`, () => s.get(id).reduce((a, b) => a ^ b, 0))));
  out.push(attempt('get of a missing id', () => s.get(missing)));
  out.push(attempt('put', () => s.put(Buffer.from('probe'))));
  out.push(
    attempt('lock', () => {
      s.debug.lock();
      s.debug.unlock();
    }),
  );
  if (!useHeld) out.push(attempt('close', () => s.close()));
  return out;
};
