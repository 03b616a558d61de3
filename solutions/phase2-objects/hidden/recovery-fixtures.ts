// Hidden-suite fixtures for recovery after a process dies holding the lock (run inside children).
import type { Fixture } from '../../../testkit/protocol.js';
import { ObjectStore, type ObjectId } from '../../../phase2-objects/index.js';
import { checkedObject, sha1 } from '../../../phase2-objects/test/fixtures.js';

// Creates an unsealed object and writes it, says 'created', then seals it when told 'seal' and says
// 'sealed' (with its checksum); keeps the store open until told 'close'.
export const createThenSeal: Fixture<{ name: string; id: ObjectId; size: number }, void> = async ({ name, id, size }, ctx) => {
  const store = ObjectStore.open(name, { lockTimeoutMs: 10_000 });
  const data = checkedObject(4242, size);
  data.copy(store.create(id, data.length));
  await ctx.emit('created');
  await ctx.waitFor('seal', 60_000);
  store.seal(id);
  await ctx.emit('sealed', sha1(data));
  await ctx.waitFor('close', 60_000);
  store.close();
};
