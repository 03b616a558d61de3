// Self-test of phase 3's harness types against its given glue: object ids cross in either form
// (IdLike: 40 hex digits or idBytes(id)), as in phases 1 and 2, and come back as hex.
import { describe, expect, test } from 'vitest';

import { useSandbox } from '../../../testkit/sandbox.js';
import { Scheduler, idBytes, randomObjectId } from '../../../phase3-scheduler/index.js';

const sandbox = useSandbox();

describe('phase 3 harness: object ids as 20 bytes', () => {
  test('submit() args and complete() resultId take ids as their 20 bytes; the task and its outcome carry them as hex; 19 bytes are ERR_INVALID_ARGUMENT', () => {
    const sched = Scheduler.create(sandbox.segment('ids'), { queueCapacity: 4 });
    try {
      const [a, b, result] = [randomObjectId(), randomObjectId(), randomObjectId()];
      const id = sched.submit({ fn: 'demo#ids', args: [idBytes(a), b] });
      const worker = sched.registerWorker();
      const task = sched.fetch(worker);
      expect(task?.args).toEqual([a, b]);
      sched.complete(worker, id, idBytes(result));
      expect(sched.wait(id)).toMatchObject({ state: 'done', resultId: result });
      expect(() => sched.submit({ fn: 'demo#ids', args: [new Uint8Array(19) as never] })).toThrowMiniRay('ERR_INVALID_ARGUMENT', 'args[0]');
    } finally {
      sched.close();
    }
  });
});
