// Grades one course tree: builds the phases' targets, runs their suites, scores them.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { targetName, type Impl, type PhaseInfo } from '../../lib/phases.js';
import type { GradeEvent } from '../../testkit/grade-events.js';
import { loadChecklist, readManifest } from './manifest.js';
import { runSuites, type SuiteRun } from './run.js';
import { scorePhase, type PhaseScore } from './score.js';

export interface GradeTreeOptions {
  readonly root: string;
  readonly impl: Impl;
  readonly phases: readonly PhaseInfo[];
  readonly hidden: boolean;
  readonly totalTimeoutMs?: number;
  readonly maxWorkers?: number;
  readonly onEvent?: (event: GradeEvent) => void;
}

export interface GradeResult {
  readonly run: SuiteRun;
  readonly scores: readonly PhaseScore[];
}

function hasSuite(dir: string): boolean {
  if (!existsSync(dir)) return false;
  return readdirSync(dir, { withFileTypes: true }).some((e) =>
    e.isDirectory() ? hasSuite(join(dir, e.name)) : e.name.endsWith('.test.ts'),
  );
}

// Phases that can be graded in `root`: a checklist and at least one public suite.
export function gradablePhases(root: string, phases: readonly PhaseInfo[]): PhaseInfo[] {
  return phases.filter((p) => existsSync(join(root, p.dir, 'checklist.ts')) && hasSuite(join(root, p.dir, 'test')));
}

export async function gradeTree(o: GradeTreeOptions): Promise<GradeResult> {
  const run = await runSuites({
    root: o.root,
    impl: o.impl,
    phases: o.phases,
    hidden: o.hidden,
    ...(o.totalTimeoutMs === undefined ? {} : { totalTimeoutMs: o.totalTimeoutMs }),
    ...(o.maxWorkers === undefined ? {} : { maxWorkers: o.maxWorkers }),
    ...(o.onEvent === undefined ? {} : { onEvent: o.onEvent }),
  });
  const scores: PhaseScore[] = [];
  for (const phase of o.phases) {
    const checklist = (await loadChecklist(o.root, phase)) ?? [];
    scores.push(
      scorePhase({
        phase,
        checklist,
        manifest: readManifest(o.root, phase.id),
        run,
        build: run.builds.find((b) => b.target === targetName(phase.id, o.impl)),
      }),
    );
  }
  return { run, scores };
}
