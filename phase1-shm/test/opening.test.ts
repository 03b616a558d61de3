// Checklists 1.1 and 1.4: an opener waits for a creator that is still initialising, and gives up (bounded on
// both sides) on one that died before publishing its header.
import { writeFileSync } from 'node:fs';

import { describe, expect } from 'vitest';

import { fixtures, spawnChild } from '../../testkit/children.js';
import { expectBounded } from '../../testkit/bounds.js';
import { atPhaseOfSecond } from '../../testkit/clock.js';
import { graded, Severity } from '../../testkit/graded.js';
import { creatorCaughtInitialising } from '../../testkit/initialising.js';
import { useSandbox } from '../../testkit/sandbox.js';
import { SHM_DIR } from '../../testkit/segments.js';
import { checklist } from '../checklist.js';
import { ShmStore, type ObjectId } from '../index.js';

const sandbox = useSandbox();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const lfx = fixtures<typeof import('./lock-fixtures.js')>(new URL('./lock-fixtures.ts', import.meta.url));

describe('phase 1: opening a segment that is being created', () => {
  // The creator puts and the opener reads an object: graded with checklist 1.4, once put() and get() work.
  graded(
    checklist.multiprocess,
    'open() while the creator is still initialising waits for it, then sees the finished store and its objects',
    async () => {
      const { name, creator, capacity, running } = await creatorCaughtInitialising(lfx, () => sandbox.segment('initialising'));
      const opener = await spawnChild({ label: 'opener' });
      const opening = opener.run(lfx, 'openAndRead', { name, lockTimeoutMs: 10_000 }, 30_000);
      await opener.waitEvent('opening');
      // Time for open() to look at the unfinished header (a wrong one gives up at once), then the
      // creator finishes, with the opener waiting.
      await Promise.race([sleep(300), opening.catch(() => undefined)]);
      process.kill(creator.pid, 'SIGCONT');
      const id = (await creator.waitEvent('put')) as ObjectId;
      const opened = await Promise.race([opener.waitEvent('opened', 20_000), opening]);
      if (opened !== undefined) {
        // open() returned without opening: the result says why
        expect((opened as { outcome: string }).outcome, 'open() during initialisation').toBe('ok');
      }
      opener.signal('read', id);
      const r = await opening;
      expect(r.outcome, `open() during initialisation: ${r.message}`).toBe('ok');
      expect(r.capacity ?? 0, 'the opener sees the finished header').toBeGreaterThanOrEqual(capacity);
      expect(r.read, "the opener reads the creator's object").toBe('made by the creator');
      creator.signal('close');
      await running;
    },
    { weight: Severity.behaviour, timeoutMs: 60_000 },
  );

  graded(
    checklist.segment,
    'open() of a segment whose creator died before publishing it gives up after lockTimeoutMs with ERR_LAYOUT_MISMATCH, not before and not long after',
    async () => {
      // What a creator leaves when it dies right after sizing its file: a segment of zeros.
      const name = sandbox.segment('never-ready');
      writeFileSync(`${SHM_DIR}${name}`, Buffer.alloc(256 * 1024), { mode: 0o600 });
      for (const [timeoutMs, phase] of [
        [300, 800],
        [999, 500],
      ] as const) {
        await atPhaseOfSecond(phase); // the wait crosses a second boundary (see waits.test.ts)
        const t0 = performance.now();
        expect(() => ShmStore.open(name, { lockTimeoutMs: timeoutMs })).toThrowMiniRay('ERR_LAYOUT_MISMATCH');
        expectBounded(performance.now() - t0, timeoutMs, 'open()');
      }
    },
    { weight: Severity.behaviour },
  );
});
