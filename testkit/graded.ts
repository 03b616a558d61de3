// graded(): a vitest test that names the checklist item it grades. The item's id and phase travel in
// task.meta, where the grade reporter reads them; the item's points are declared in the checklist.
import { test, type TestContext } from 'vitest';

import type { ChecklistItem } from './checklist.js';

declare module 'vitest' {
  interface TaskMeta {
    checklist?: { phase: string; item: string; title: string };
    // The test's share of its item's points relative to the item's other tests (default 1).
    weight?: number;
    // The test's own timeout: the grader's watchdog gives up on a test that outlives it (a blocked
    // event loop, e.g. a lock taken without a deadline, keeps vitest from timing it out).
    timeoutMs?: number;
  }
}

export const DEFAULT_TIMEOUT_MS = 30_000;

// Points follow severity. An item's points are shared among its tests in proportion to their
// weights, so a test that catches lost or corrupted data, a crash or a hang weighs more than one
// that checks an error code or a message.
export const Severity = {
  // a wrong error code or message, a missing validation that fails safe
  code: 1,
  // a wrong result, a wait that ends too early or too late, a resource not given back
  behaviour: 2,
  // data lost or corrupted, a crash, a hang, a deadlock, another process's state destroyed
  data: 3,
} as const;

export interface GradedOptions {
  // The test's own timeout (default 30 s).
  readonly timeoutMs?: number;
  // Its share of the item's points relative to the item's other tests (default Severity.code = 1).
  readonly weight?: number;
}

export function graded(
  item: ChecklistItem,
  name: string,
  fn: (context: TestContext) => Promise<void> | void,
  options: number | GradedOptions = {},
): void {
  const o: GradedOptions = typeof options === 'number' ? { timeoutMs: options } : options;
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const weight = o.weight ?? 1;
  if (!(weight > 0 && Number.isFinite(weight))) throw new Error(`graded(): weight must be positive, got ${weight}`);
  test(
    `[${item.id}] ${name}`,
    {
      meta: { checklist: { phase: item.phase, item: item.id, title: item.title }, timeoutMs, weight },
      timeout: timeoutMs,
    },
    fn,
  );
}
