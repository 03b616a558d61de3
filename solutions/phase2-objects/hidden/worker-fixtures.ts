// Child-process (and worker-thread) code for runtime.hidden.test.ts: gets still waiting when the
// worker thread that started them goes away.
import type { Fixture } from '../../../testkit/protocol.js';
import { runInWorker } from '../../../testkit/workers.js';
import { ObjectStore, randomObjectId } from '../../../phase2-objects/index.js';

// In a worker thread: a get that waits `timeoutMs` for an object nobody will seal.
export function waitInWorker({ name, timeoutMs }: { name: string; timeoutMs: number }): string {
  const store = ObjectStore.open(name);
  void store.getAsync(randomObjectId(), { timeoutMs }).catch(() => undefined);
  return 'waiting';
}

// Terminates a worker thread whose get is still waiting, lets that get's deadline pass (its
// completion then lands in an environment that no longer exists), and uses the store here.
export const terminatedWhileWaiting: Fixture<{ name: string }, string> = async ({ name }) => {
  await runInWorker(new URL(import.meta.url).href, 'waitInWorker', { name, timeoutMs: 500 }, { terminate: true });
  await new Promise((r) => setTimeout(r, 1500));
  const store = ObjectStore.open(name);
  try {
    const id = store.put(Buffer.from('after'));
    const back = store.get(id).toString();
    store.release(id);
    return back;
  } finally {
    store.close();
  }
};
