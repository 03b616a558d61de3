// Checklist items: what each graded test grades and how many points it is worth.
// Each phase declares its items once, in <phase>/checklist.ts; the points of a phase add up to 100.
import type { PhaseId } from '../lib/phases.js';

export interface ChecklistItem {
  readonly phase: PhaseId;
  readonly id: string; // '1.2'
  readonly title: string; // what the item builds, in one line
  readonly points: number; // shared equally by the item's graded tests (public and hidden)
  readonly todo: string; // the functions to write, e.g. 'ShmStore::Lock in phase1-shm/src/shm_store.cc'
  // `npm start`'s hints, in order: first a question to think about, then a pointer to where the
  // answer is (a man page, a lesson section). Neither gives the answer.
  readonly question?: string;
  readonly hint: string;
}

export function defineChecklist<K extends string>(
  phase: PhaseId,
  items: Record<K, Omit<ChecklistItem, 'phase'>>,
): Record<K, ChecklistItem> {
  const out = {} as Record<K, ChecklistItem>;
  let total = 0;
  for (const key of Object.keys(items) as K[]) {
    out[key] = { phase, ...items[key] };
    total += items[key].points;
  }
  if (total !== 100) throw new Error(`${phase} checklist points add up to ${total}, not 100`);
  return out;
}
