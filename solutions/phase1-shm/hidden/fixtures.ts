// Hidden-suite fixtures for phase 1 (run inside child processes).
import type { Fixture } from '../../../testkit/protocol.js';
import { ShmStore, type ObjectId } from '../../../phase1-shm/index.js';
import { patternBytes, sha1 } from '../../../phase1-shm/test/fixtures.js';

// Object i of putForever: the pattern of `seed`, with i written into its first 4 bytes.
export function numberedObject(seed: number, size: number, i: number): Buffer {
  const data = patternBytes(seed, size);
  data.writeUInt32LE(i, 0);
  return data;
}

// Puts numbered objects of `size` bytes as fast as it can, emitting each id once put() returned.
// Most of each iteration is the copy under the lock, so the parent's SIGKILL most likely lands
// inside the critical section.
export const putForever: Fixture<{ name: string; size: number; seed: number }, void> = ({ name, size, seed }, ctx) => {
  const store = ShmStore.open(name, { lockTimeoutMs: 10_000 });
  const data = patternBytes(seed, size);
  for (let i = 0; ; i += 1) {
    data.writeUInt32LE(i, 0);
    ctx.emit('put', { id: store.put(data), i });
  }
};

// Takes a view, closes the store, unlinks nothing, then reads the view: it must not crash.
export const readAfterClose: Fixture<{ name: string; id: ObjectId }, string> = ({ name, id }) => {
  const store = ShmStore.open(name);
  const view = store.get(id);
  store.close();
  (globalThis as { gc?: () => void }).gc?.();
  return sha1(view);
};

// Opens the store with a short lock timeout and tries one put; returns the error code or 'ok'.
export const tryPut: Fixture<{ name: string; lockTimeoutMs: number }, { code: string; message: string }> = ({
  name,
  lockTimeoutMs,
}) => {
  const store = ShmStore.open(name, { lockTimeoutMs });
  try {
    store.put(Buffer.from('third'));
    return { code: 'ok', message: '' };
  } catch (e) {
    const err = e as Error & { code?: string };
    return { code: err.code ?? 'none', message: err.message };
  } finally {
    store.close();
  }
};
