// npm start's hint levels (tools/grading/hints.ts): a question first, the pointer after a run with
// no new test passing, after 20 minutes, or when asked; a new item starts over.
import { describe, expect, test } from 'vitest';

import { hintLevel, wrap } from '../grading/hints.js';

const MIN = 60_000;

describe('npm start hints', () => {
  test('the first run on an item shows the question only; the next run with no new test passing adds the pointer', () => {
    const first = hintLevel(undefined, 'phase1 1.1', 0, 0, false);
    expect(first.level).toBe(1);
    const second = hintLevel(first.state, 'phase1 1.1', 0, 1 * MIN, false);
    expect(second.level).toBe(2);
  });

  test('a run that passes more tests of the item shows the question again; a new item starts over', () => {
    const first = hintLevel(undefined, 'phase1 1.1', 0, 0, false);
    const progress = hintLevel(first.state, 'phase1 1.1', 3, 1 * MIN, false);
    expect(progress.level).toBe(1);
    const next = hintLevel({ ...progress.state, runs: 5 }, 'phase1 1.2', 0, 2 * MIN, false);
    expect(next.level).toBe(1);
    expect(next.state).toEqual({ item: 'phase1 1.2', passed: 0, since: 2 * MIN, runs: 0 });
  });

  test('twenty minutes on one item, or --more, show the pointer at once', () => {
    const first = hintLevel(undefined, 'phase2 2.1', 2, 0, false);
    expect(hintLevel({ ...first.state }, 'phase2 2.1', 3, 19 * MIN, false).level).toBe(1);
    expect(hintLevel({ ...first.state }, 'phase2 2.1', 3, 20 * MIN, false).level).toBe(2);
    expect(hintLevel(undefined, 'phase2 2.1', 0, 0, true).level).toBe(2);
  });

  test('long titles are wrapped, never cut', () => {
    const title = 'Plasma\'s lifecycle: create, seal, abort, contains, and get that waits across processes';
    const lines = wrap(title, 30, 2);
    expect(lines.every((l) => l.length <= 30)).toBe(true);
    expect(lines.join(' ').replace(/\s+/g, ' ')).toBe(title);
  });
});
