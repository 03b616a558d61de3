// graded(): a vitest test that names the checklist item it grades. The item's id and phase travel in
// task.meta, where the grade reporter reads them; the item's points are declared in the checklist.
import { test, type TestContext } from 'vitest';

import type { ChecklistItem } from './checklist.js';

declare module 'vitest' {
  interface TaskMeta {
    checklist?: { phase: string; item: string; title: string };
    // The test's own timeout: the grader's watchdog gives up on a test that outlives it (a blocked
    // event loop, e.g. a lock taken without a deadline, keeps vitest from timing it out).
    timeoutMs?: number;
  }
}

export const DEFAULT_TIMEOUT_MS = 30_000;

export function graded(
  item: ChecklistItem,
  name: string,
  fn: (context: TestContext) => Promise<void> | void,
  timeoutMs: number = DEFAULT_TIMEOUT_MS,
): void {
  test(
    `[${item.id}] ${name}`,
    { meta: { checklist: { phase: item.phase, item: item.id, title: item.title }, timeoutMs }, timeout: timeoutMs },
    fn,
  );
}
