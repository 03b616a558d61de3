// The self-test of a store's given glue (phases 2 and 4; not graded: no student code is involved):
// the methods of the get path are functions bound to their handle (napi_util.h BoundMethod,
// store_handle.h) and the location slots are the glue's own memory (LocationScratch). What a
// program that calls the addon directly can do with them must end in typed errors or the right
// answer, never in a crash or a handle that leaks. Each phase's selftest/glue.test.ts calls it.
import { describe, expect, test } from 'vitest';

import { fixtures, spawnChild } from '../../../testkit/children.js';
import { howEnded } from '../../../testkit/hostile.js';
import { useSandbox } from '../../../testkit/sandbox.js';

import type { StorePhase } from './fixtures.js';

const fx = fixtures<typeof import('./fixtures.js')>(new URL('./fixtures.ts', import.meta.url));

export function boundMethodsTest(phase: StorePhase): void {
  const sandbox = useSandbox();
  describe(`${phase} glue: methods bound to one handle`, () => {
  test('ids in either form, wrong ids and timeouts typed; any `this`; kept methods keep the handle open until collected; after close() ERR_CLOSED; the slots are one array that cannot be detached', async () => {
    const child = await spawnChild({ label: 'bound' });
    const r = await child.run(fx, 'boundMethods', { name: sandbox.segment('bound'), phase });
    const codes = Object.fromEntries(r.ids.map((o) => [o.op, o.result]));
    expect(codes).toEqual({
      'contains(20 bytes)': 'ok',
      'contains(40 hex digits)': 'ok',
      'contains(19 bytes)': 'ERR_INVALID_ARGUMENT',
      'contains(a Float32Array of 20 bytes)': 'ERR_INVALID_ARGUMENT',
      'contains(42)': 'ERR_INVALID_ARGUMENT',
      'locate(id, "5")': 'ERR_INVALID_ARGUMENT',
      'locate(id, 2^63)': 'ERR_INVALID_ARGUMENT',
      'release(nothing)': 'ERR_INVALID_ARGUMENT',
    });
    for (const o of r.ids.filter((x) => x.result !== 'ok')) expect(o.message, o.op).toMatch(/^(id|timeoutMs) must be/);
    expect(r.foreignThis.map((o) => o.result), JSON.stringify(r.foreignThis)).toEqual(['ok', 'ok', 'ok']);
    expect(r.scratch.same, 'scratch() hands out one array').toBe(true);
    expect(r.scratch.lengthAfterTransfer, 'a transfer of its buffer copies it, never detaches it').toBe(2);
    expect(r.scratch.located[1], 'the located size').toBe('bound methods'.length);
    expect(r.keptAlive, 'while a kept method can be called, its handle is open and holds its pin').toEqual({
      contains: true,
      clients: 1,
      pinnedWhileKept: 1,
    });
    expect(r.collected, 'once they are collected too, the handle gave back its client record and its pin').toEqual({ clients: 0, pinned: 0 });
    expect(r.closed.map((o) => o.result)).toEqual(['ERR_CLOSED', 'ERR_CLOSED', 'ERR_CLOSED', 'ERR_CLOSED']);
    expect(await howEnded(child, 50), 'the process survives').toBe('alive');
  });
  });
}
