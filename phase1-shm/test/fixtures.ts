// Code that runs inside child processes during phase-1 tests (see testkit/children.ts).
import { patternBytes, sha1 } from '../../testkit/data.js';
import type { Fixture } from '../../testkit/protocol.js';
import { ShmStore, type ObjectId } from '../index.js';

export { patternBytes, sha1 };

export interface PutRecord {
  readonly id: ObjectId;
  readonly size: number;
  readonly sha1: string;
}

// Opens the store, takes its lock, says 'locked', and holds it until told 'release'.
export const holdLock: Fixture<{ name: string }, void> = async ({ name }, ctx) => {
  const store = ShmStore.open(name);
  store.debug.lock();
  ctx.emit('locked', process.pid);
  await ctx.waitFor('release', 60_000);
  store.debug.unlock();
  store.close();
};

// Puts `count` objects of pseudo-random sizes after a barrier ('ready' then 'go').
export const putMany: Fixture<
  { name: string; count: number; seed: number; maxSize: number; barrier: boolean },
  PutRecord[]
> = async ({ name, count, seed, maxSize, barrier }, ctx) => {
  const store = ShmStore.open(name, { lockTimeoutMs: 10_000 });
  if (barrier) {
    ctx.emit('ready');
    await ctx.waitFor('go', 15_000);
  }
  const records: PutRecord[] = [];
  let r = seed;
  for (let i = 0; i < count; i += 1) {
    r = (r * 1103515245 + 12345) >>> 0;
    const size = r % (maxSize + 1);
    const data = patternBytes(seed * 100_003 + i, size);
    records.push({ id: store.put(data), size, sha1: sha1(data) });
  }
  store.close();
  return records;
};

// Reads every record back and returns the ids whose bytes differ (or are missing).
export const verifyAll: Fixture<{ name: string; records: readonly PutRecord[] }, string[]> = ({
  name,
  records,
}) => {
  const store = ShmStore.open(name, { lockTimeoutMs: 10_000 });
  const bad: string[] = [];
  for (const rec of records) {
    try {
      const view = store.get(rec.id);
      if (view.length !== rec.size || sha1(view) !== rec.sha1) bad.push(rec.id);
    } catch (e) {
      bad.push(`${rec.id}: ${(e as Error).message}`);
    }
  }
  store.close();
  return bad;
};

// Writes one byte into an object's view in this process (a zero-copy view is writable memory).
export const pokeByte: Fixture<{ name: string; id: ObjectId; index: number; value: number }, void> = ({
  name,
  id,
  index,
  value,
}) => {
  const store = ShmStore.open(name);
  store.get(id)[index] = value;
  store.close();
};
