// Runs variants of a phase's student files (a mutant, the reference) as submissions: each in a
// scratch copy of the course (never the working tree), built incrementally and tested with the
// grader's own runner (watchdog, hang detection). A pool of scratch copies runs several at once.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { REPO_ROOT, targetName, type PhaseInfo } from '../../../lib/phases.js';
import { makeScratch, type Scratch } from '../course-files.js';
import type { BuildStatus } from '../../../lib/native.js';
import { buildPhases, runSuites, type SuiteRun, type TestOutcome } from '../run.js';

// The reference version of each of the phase's student files: solutions/<path>.
export function referenceFiles(phase: PhaseInfo, root = REPO_ROOT): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const rel of phase.studentFiles) {
    const ref = join(root, 'solutions', rel);
    if (!existsSync(ref)) throw new Error(`no reference for ${rel} (expected solutions/${rel})`);
    files.set(rel, readFileSync(ref));
  }
  return files;
}

export interface TrialOptions {
  readonly hiddenOnly: boolean; // hidden suites only (the self-check's verdict) or public and hidden
  readonly files?: readonly string[]; // only these test files
  readonly bail?: boolean; // stop at the first failing test
  readonly totalTimeoutMs: number;
  readonly maxWorkers?: number;
  // Build first, and skip the tests when the object code equals the snapshot's (see snapshot()).
  readonly skipSameCode?: boolean;
}

// The object files of a phase's student target in a course tree, by path.
function objectFiles(root: string, phase: PhaseInfo): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.o')) out.set(path, readFileSync(path));
    }
  };
  walk(join(root, 'build', 'Release', 'obj.target', targetName(phase.id, 'student')));
  return out;
}

function sameObjects(a: ReadonlyMap<string, Buffer>, b: ReadonlyMap<string, Buffer>): boolean {
  if (a.size !== b.size || a.size === 0) return false;
  for (const [path, content] of a) if (!(b.get(path)?.equals(content) ?? false)) return false;
  return true;
}

export interface Trial {
  readonly compiled: boolean;
  readonly diagnostics: readonly string[];
  // The variant compiled to the very same object code as the reference (so it was not run).
  readonly sameCode: boolean;
  readonly run: SuiteRun | undefined;
  // Graded tests that ran and failed, or hung (the watchdog stopped them).
  readonly failures: readonly TestOutcome[];
  // Test files that failed to load or crashed before reporting their tests.
  readonly brokenFiles: readonly string[];
  readonly seconds: number;
}

export class Slot {
  private readonly snapshots = new Map<string, Map<string, Buffer>>();

  constructor(readonly scratch: Scratch) {}

  // Remembers the object code built here now (the reference's) for skipSameCode.
  snapshot(phase: PhaseInfo): void {
    this.snapshots.set(phase.id, objectFiles(this.scratch.root, phase));
  }

  // Writes `files` into the copy, leaving unchanged files (and their timestamps) alone so that make
  // recompiles only what differs from the last variant built here.
  private apply(files: ReadonlyMap<string, Buffer>): void {
    const changed = new Map<string, Buffer>();
    for (const [rel, content] of files) {
      const path = join(this.scratch.root, rel);
      if (!existsSync(path) || !readFileSync(path).equals(content)) changed.set(rel, content);
    }
    if (changed.size > 0) this.scratch.overlay(changed);
  }

  // Writes `files` and builds them, without running anything: warms the copy's build.
  build(phase: PhaseInfo, files: ReadonlyMap<string, Buffer>): BuildStatus | undefined {
    this.apply(files);
    return buildPhases(this.scratch.root, 'student', [phase])[0];
  }

  async trial(phase: PhaseInfo, files: ReadonlyMap<string, Buffer>, o: TrialOptions): Promise<Trial> {
    const t0 = Date.now();
    this.apply(files);
    const reference = this.snapshots.get(phase.id);
    let prebuilt: BuildStatus | undefined;
    if (o.skipSameCode === true && reference !== undefined) {
      prebuilt = this.build(phase, files);
      const seconds = (Date.now() - t0) / 1000;
      if (prebuilt !== undefined && !prebuilt.ok) {
        return { compiled: false, diagnostics: prebuilt.diagnostics, sameCode: false, run: undefined, failures: [], brokenFiles: [], seconds };
      }
      if (sameObjects(reference, objectFiles(this.scratch.root, phase))) {
        return { compiled: true, diagnostics: [], sameCode: true, run: undefined, failures: [], brokenFiles: [], seconds };
      }
    }
    const run = await runSuites({
      ...(prebuilt === undefined ? {} : { build: false }),
      root: this.scratch.root,
      impl: 'student',
      phases: [phase],
      hidden: true,
      hiddenOnly: o.hiddenOnly,
      totalTimeoutMs: o.totalTimeoutMs,
      graceMs: 10_000,
      ...(o.files === undefined ? {} : { files: o.files }),
      ...(o.bail === true ? { bail: 1 } : {}),
      ...(o.maxWorkers === undefined ? {} : { maxWorkers: o.maxWorkers }),
    });
    const build = prebuilt ?? run.builds[0];
    const compiled = build === undefined || build.ok;
    return {
      compiled,
      diagnostics: build?.diagnostics ?? [],
      sameCode: false,
      run,
      failures: compiled ? run.tests.filter((t) => t.graded !== undefined && (t.state === 'failed' || t.state === 'hung')) : [],
      brokenFiles: compiled ? [...run.moduleErrors.keys()].filter((f) => !run.tests.some((t) => t.file === f)) : [],
      seconds: (Date.now() - t0) / 1000,
    };
  }
}

export class ScratchPool {
  private constructor(readonly slots: readonly Slot[]) {}

  static async open(size: number, label: string): Promise<ScratchPool> {
    const slots: Slot[] = [];
    try {
      for (let i = 0; i < size; i += 1) slots.push(new Slot(await makeScratch({ from: REPO_ROOT, reuseBuild: true, label: `${label}${i}` })));
    } catch (e) {
      for (const s of slots) s.scratch.dispose();
      throw e;
    }
    return new ScratchPool(slots);
  }

  // Runs `fn` over `items`, one item per free slot at a time; results in the order of `items`.
  async map<T, R>(items: readonly T[], fn: (item: T, slot: Slot, index: number) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array<R>(items.length);
    let next = 0;
    await Promise.all(
      this.slots.map(async (slot) => {
        for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i] as T, slot, i);
      }),
    );
    return results;
  }

  dispose(): void {
    for (const s of this.slots) s.scratch.dispose();
  }
}
