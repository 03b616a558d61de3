// Does a student release give an answer away? The answers are the reference versions of the
// student files of every phase handed out (solutions/<path>), and whatever a later phase hands out
// (lib/phases.ts, `given`: from phase 2 on, native-common's segment and robust mutex, which are
// phase 1's answer). A line of them that is distinctive (real code, long enough, not in the
// skeletons the release ships anyway) must appear nowhere in the release.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { committedFile, courseFiles } from './course-files.js';
import { releasePlan } from './release.js';
import type { PhaseId } from '../../lib/phases.js';

const MIN_CHARS = 28;

const normalise = (line: string): string => line.trim().replace(/\s+/g, ' ');

// Lines that say something: not comments, includes, lone braces or short statements.
function distinctive(text: string): Set<string> {
  const out = new Set<string>();
  for (const raw of text.split('\n')) {
    const line = normalise(raw);
    if (line.length < MIN_CHARS) continue;
    if (/^(\/\/|\/\*|\*|#)/.test(line)) continue;
    out.add(line);
  }
  return out;
}

export interface Leak {
  readonly file: string; // in the release
  readonly line: number;
  readonly text: string;
  readonly answer: string; // the file of the course it comes from
}

// Every line of `release` (a folder) that is a distinctive line of an answer it must not contain.
export function findAnswerLeaks(course: string, release: string, through: PhaseId | undefined): Leak[] {
  const plan = releasePlan(through);
  const answers = new Map<string, string>(); // line -> source
  for (const p of plan.phases) {
    for (const rel of p.studentFiles) {
      const ref = join(course, 'solutions', rel);
      if (existsSync(ref)) for (const l of distinctive(readFileSync(ref, 'utf8'))) answers.set(l, `solutions/${rel}`);
    }
  }
  for (const p of plan.later) {
    for (const rel of p.given ?? []) {
      const file = join(course, rel);
      if (existsSync(file)) for (const l of distinctive(readFileSync(file, 'utf8'))) answers.set(l, rel);
    }
  }
  // What the release ships on purpose: the skeletons, and every file it may hold.
  for (const p of plan.phases) {
    for (const rel of p.studentFiles) {
      const skeleton = committedFile(course, rel);
      if (skeleton !== undefined) for (const l of distinctive(skeleton.toString('utf8'))) answers.delete(l);
    }
  }
  // (Not the answers themselves, so that a release that wrongly holds one still shows it.)
  const sources = new Set([...plan.later.flatMap((p) => p.given ?? []), ...plan.phases.flatMap((p) => p.studentFiles)]);
  for (const rel of courseFiles(course).filter((f) => plan.includes(f) && !sources.has(f))) {
    if (!/\.(cc|h)$/.test(rel)) continue;
    for (const l of distinctive(readFileSync(join(course, rel), 'utf8'))) answers.delete(l);
  }
  const leaks: Leak[] = [];
  for (const rel of courseFiles(release)) {
    if (!/\.(cc|h|ts|md|gyp|json|js)$/.test(rel)) continue;
    const lines = readFileSync(join(release, rel), 'utf8').split('\n');
    lines.forEach((raw, i) => {
      const source = answers.get(normalise(raw));
      if (source !== undefined) leaks.push({ file: rel, line: i + 1, text: normalise(raw), answer: source });
    });
  }
  return leaks;
}
