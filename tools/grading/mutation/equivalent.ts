// solutions/mutants/<phase>/EQUIVALENT.md: the derived mutants no test can observe, each with the
// reason. An entry is a heading naming one or more mutant ids, followed by the reason:
//
//   ### m3fa2c1d0, m77b0e412: the holder pid is only ever read for a message
//   `Unlock` clears holder_pid before unlocking; a relaxed store there ...
//
// `npm run course -- mutate` leaves these out of the score (and does not run them unless asked).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { REPO_ROOT, type PhaseInfo } from '../../../lib/phases.js';

export const EQUIVALENT_FILE = 'EQUIVALENT.md';

export interface EquivalentEntry {
  readonly ids: readonly string[];
  readonly title: string; // the heading, without the ids
  readonly reason: string; // the heading's rest and the text under it
  readonly line: number;
}

export function equivalentPath(phase: PhaseInfo, root = REPO_ROOT): string {
  return join(root, 'solutions', 'mutants', phase.id, EQUIVALENT_FILE);
}

export function readEquivalent(phase: PhaseInfo, root = REPO_ROOT): { entries: EquivalentEntry[]; problems: string[] } {
  const file = equivalentPath(phase, root);
  const entries: EquivalentEntry[] = [];
  const problems: string[] = [];
  if (!existsSync(file)) return { entries, problems };
  const lines = readFileSync(file, 'utf8').split('\n');
  let current: { ids: string[]; title: string; body: string[]; line: number } | undefined;
  const flush = (): void => {
    if (current === undefined) return;
    const reason = [current.title, ...current.body].join('\n').trim();
    if (current.body.join('').trim() === '' && current.title === '') {
      problems.push(`${EQUIVALENT_FILE}:${current.line}: ${current.ids.join(', ')} has no reason`);
    }
    entries.push({ ids: current.ids, title: current.title, reason, line: current.line });
    current = undefined;
  };
  lines.forEach((text, i) => {
    const heading = /^#{2,4}\s+(.*)$/.exec(text);
    if (heading !== null) {
      flush();
      const ids = [...(heading[1] ?? '').matchAll(/\bm[0-9a-f]{8}\b/g)].map((m) => m[0]);
      if (ids.length > 0) {
        const title = (heading[1] ?? '').replace(/`?\bm[0-9a-f]{8}\b`?[,\s]*/g, '').replace(/^[:\s-]+/, '').trim();
        current = { ids, title, body: [], line: i + 1 };
      }
      return;
    }
    current?.body.push(text);
  });
  flush();
  const seen = new Set<string>();
  for (const e of entries) {
    for (const id of e.ids) {
      if (seen.has(id)) problems.push(`${EQUIVALENT_FILE}:${e.line}: ${id} is listed twice`);
      seen.add(id);
    }
  }
  return { entries, problems };
}
