// Self-tests of the given glue (not graded: no student code is involved): what a program that
// uses an addon directly, not through its harness, cannot do to the process.
import { describe, expect, test } from 'vitest';

import { fixtures, spawnChild } from '../../../testkit/children.js';
import { howEnded } from '../../../testkit/hostile.js';
import { useSandbox } from '../../../testkit/sandbox.js';

const sandbox = useSandbox();
const fx = fixtures<typeof import('./fixtures.js')>(new URL('./fixtures.ts', import.meta.url));

describe('given glue: store objects are made only by create() and open()', () => {
  test('create() called on a foreign class passes it nothing; store constructors called from JavaScript refuse anything with ERR_INVALID_ARGUMENT', async () => {
    // The store used to reach its wrapper's constructor as an External pointing into create()'s
    // stack frame: a class of the program's own, as create()'s `this`, could keep it, and a
    // constructor given it later read a dead frame (or, in another addon, a store of another type).
    const child = await spawnChild({ label: 'constructor' });
    const r = await child.run(fx, 'hijackedConstructor', { scheduler: sandbox.segment('sched'), store: sandbox.segment('store') });
    expect(r.given, "what the foreign class's constructor was given").toBe(0);
    for (const o of r.outcomes.slice(1)) expect(o.result, `${o.op}: ${o.message ?? ''}`).toBe('ERR_INVALID_ARGUMENT');
    expect(await howEnded(child, 50), 'the process survives').toBe('alive');
  });
});
