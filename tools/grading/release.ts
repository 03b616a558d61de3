// The student release: the course without solutions/, hidden suites or mutants, with skeletons as
// committed, and with the instructor-only build targets and scripts taken out.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { PHASES } from '../../lib/phases.js';
import { INSTRUCTOR_DOCS, studentLockfile, studentPackageJson } from '../docs/release.js';
import { committedFile, courseFiles } from './course-files.js';
import { MANIFEST_DIR, type PhaseManifest } from './manifest.js';

// Instructor-only: the reference code, hidden suites and mutants, and CI. The scripts stay: in the
// release, `verify` checks what a student's checkout can (typecheck, build, the site) and the
// `:solution` scripts say that solutions are not part of it.
const DROP_PREFIXES = ['solutions/', '.ci/'];
const DROP_FILES = new Set<string>(INSTRUCTOR_DOCS);
const DROP_SCRIPTS: readonly string[] = [];

// Removes every target whose name ends in _solution or _crash (the reference built with crash
// points) from a binding.gyp (a Python literal), with the comment lines directly above it. Braces
// inside strings and comments are ignored.
export function stripSolutionTargets(gyp: string): string {
  const pairs: Array<{ open: number; close: number }> = [];
  const stack: number[] = [];
  for (let i = 0; i < gyp.length; i += 1) {
    const c = gyp[i];
    if (c === '#') {
      while (i < gyp.length && gyp[i] !== '\n') i += 1;
    } else if (c === "'" || c === '"') {
      for (i += 1; i < gyp.length && gyp[i] !== c; i += 1) if (gyp[i] === '\\') i += 1;
    } else if (c === '{') {
      stack.push(i);
    } else if (c === '}') {
      const open = stack.pop();
      if (open !== undefined) pairs.push({ open, close: i });
    }
  }
  const cuts: Array<{ from: number; to: number }> = [];
  for (const m of gyp.matchAll(/['"]target_name['"]\s*:\s*['"]([A-Za-z0-9_]+_(?:solution|crash))['"]/g)) {
    const at = m.index;
    const inner = pairs.filter((p) => p.open < at && at < p.close).sort((a, b) => b.open - a.open)[0];
    if (inner === undefined) continue;
    let from = gyp.lastIndexOf('\n', inner.open) + 1;
    // Comment lines directly above the target belong to it.
    for (;;) {
      const prevEnd = from - 1;
      if (prevEnd <= 0) break;
      const prevStart = gyp.lastIndexOf('\n', prevEnd - 1) + 1;
      if (!/^\s*#/.test(gyp.slice(prevStart, prevEnd))) break;
      from = prevStart;
    }
    let to = inner.close + 1;
    const after = /^\s*,?[ \t]*\n?/.exec(gyp.slice(to));
    to += after?.[0].length ?? 0;
    cuts.push({ from, to });
  }
  let out = gyp;
  for (const cut of cuts.sort((a, b) => b.from - a.from)) out = out.slice(0, cut.from) + out.slice(cut.to);
  return out;
}

export interface ExportResult {
  readonly out: string;
  readonly files: number;
  readonly notes: readonly string[];
}

export function exportRelease(from: string, out: string, force: boolean): ExportResult {
  if (existsSync(out) && readdirSync(out).length > 0 && !force) {
    throw new Error(`${out} exists and is not empty (--force to write into it anyway)`);
  }
  const notes: string[] = [];
  const files = courseFiles(from).filter((f) => !DROP_PREFIXES.some((p) => f.startsWith(p)) && !DROP_FILES.has(f));
  const write = (rel: string, content: string | Buffer): void => {
    const dst = join(out, rel);
    mkdirSync(dirname(dst), { recursive: true });
    writeFileSync(dst, content);
  };
  const studentFiles = new Set(PHASES.flatMap((p) => p.studentFiles));
  for (const rel of files) {
    const text = (): string => readFileSync(join(from, rel), 'utf8');
    if (rel === 'binding.gyp') {
      const stripped = stripSolutionTargets(text());
      if (/['"]solutions\//.test(stripped)) throw new Error('binding.gyp still names solutions/ after stripping the *_solution targets');
      write(rel, stripped);
    } else if (rel === 'package.json') {
      const pkg = JSON.parse(studentPackageJson(text())) as { scripts?: Record<string, string> };
      for (const s of DROP_SCRIPTS) delete pkg.scripts?.[s];
      write(rel, `${JSON.stringify(pkg, null, 2)}\n`);
    } else if (rel === 'package-lock.json') {
      write(rel, studentLockfile(text()));
    } else if (rel.startsWith(`${MANIFEST_DIR}/`) && rel.endsWith('.json')) {
      const m = JSON.parse(text()) as PhaseManifest;
      write(rel, `${JSON.stringify({ ...m, tests: m.tests.filter((t) => !t.hidden) }, null, 2)}\n`);
    } else if (studentFiles.has(rel)) {
      // Skeletons as committed, whatever this checkout's working copy holds.
      write(rel, committedFile(from, rel) ?? readFileSync(join(from, rel)));
    } else {
      write(rel, readFileSync(join(from, rel)));
    }
  }
  for (const rel of files) {
    // The grading tools name solutions/ on purpose (and say it is absent); anything else is a leak.
    if (/\.(ts|json|gyp|cc|h)$/.test(rel) && !rel.startsWith('tools/') && readFileSync(join(out, rel), 'utf8').includes('solutions/mutants')) {
      notes.push(`${rel} mentions solutions/mutants`);
    }
  }
  return { out, files: files.length, notes };
}
