// Build-time reference checks: a lesson that names something that is not there fails the build.
//
// The rules (documented for writers in docs/instructor-guide.md):
//   1. A repository path, in a code span, in a shell fence or in prose, must exist. A path is a word
//      that starts with one of the repository's top-level folders or files and contains a '/', e.g.
//      `phase1-shm/src/shm_store.cc`, `tools/build.ts`. A `:42` line suffix is allowed. Words with
//      `*`, `<`, `>`, `{` or `$` are patterns, not paths, and are skipped; so are build/ and node_modules/.
//   2. A code span naming a test file (ending in .test.ts) must exist: as a repository path, relative
//      to the page, or, if it is a bare file name, somewhere in the repository.
//   3. `npm run <script>`, `npm test` and `npm start` must name a script in package.json.
//   4. `npm test -- <filter>` (and `npm run test:solution -- <filter>`): each filter must match a test
//      file's path, as vitest's filter does.
//   5. A graded test named as a code span `[1.3] <test name>` must exist: the checklist id is declared
//      in that phase's checklist.ts and a test file that grades that item has that exact name.
//   6. A page students read (every page but the instructors' and the repository README) must not run
//      an instructor-only command: the student release has no solutions/ to run them against.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, posix } from 'node:path';

import { REPO_ROOT } from '../../lib/phases.js';

export interface Problem {
  readonly file: string; // repository-relative
  readonly line: number; // 1-based
  readonly message: string;
}

const IGNORED_DIRS = new Set(['node_modules', 'build', '.git', 'dist', '.scratch', 'out']);

// Every file in the repository (repository-relative, '/'-separated), skipping build output.
export function listRepoFiles(dir = '', out: string[] = []): string[] {
  for (const entry of readdirSync(join(REPO_ROOT, dir), { withFileTypes: true })) {
    if (IGNORED_DIRS.has(entry.name) || (entry.name.startsWith('.') && entry.name !== '.ci')) continue;
    const rel = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) listRepoFiles(rel, out);
    else out.push(rel);
  }
  return out;
}

export function repoPathExists(rel: string): boolean {
  return existsSync(join(REPO_ROOT, rel));
}

export function isRepoDir(rel: string): boolean {
  try {
    return statSync(join(REPO_ROOT, rel)).isDirectory();
  } catch {
    return false;
  }
}

interface ChecklistEntry {
  readonly phaseDir: string;
  readonly key: string; // e.g. 'mutex', as in checklist.mutex
}

export class RepoFacts {
  readonly scripts: ReadonlySet<string>;
  readonly files: readonly string[];
  readonly testFiles: readonly string[];
  readonly topLevel: ReadonlySet<string>;
  readonly checklist: ReadonlyMap<string, ChecklistEntry>;

  constructor() {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    this.scripts = new Set(Object.keys(pkg.scripts ?? {}));
    this.files = listRepoFiles();
    this.testFiles = this.files.filter((f) => f.endsWith('.test.ts'));
    const top = new Set<string>();
    for (const entry of readdirSync(REPO_ROOT)) {
      if (!IGNORED_DIRS.has(entry) && !entry.startsWith('.')) top.add(entry);
    }
    top.add('.ci');
    this.topLevel = top;
    const checklist = new Map<string, ChecklistEntry>();
    for (const f of this.files) {
      if (!/^phase\d+-[^/]+\/checklist\.ts$/.test(f)) continue;
      const text = readFileSync(join(REPO_ROOT, f), 'utf8');
      for (const m of text.matchAll(/(\w+):\s*\{\s*id:\s*'(\d+\.\d+)'/g)) {
        checklist.set(m[2] ?? '', { phaseDir: f.split('/')[0] ?? '', key: m[1] ?? '' });
      }
    }
    this.checklist = checklist;
  }
}

// Words in `text` that look like repository paths (rule 1).
function pathCandidates(text: string, facts: RepoFacts): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?<![\w@./~$-])((?:\.\/)?[\w.-]+\/[\w./@-]*)/g)) {
    let word = (m[1] ?? '').replace(/^\.\//, '');
    const next = text[(m.index ?? 0) + (m[1] ?? '').length] ?? '';
    if (/[*<>{$]/.test(next)) continue; // phase*/..., <phase>/...
    word = word.replace(/[.,;:)]+$/, '');
    const first = word.split('/')[0] ?? '';
    if (!facts.topLevel.has(first)) continue;
    if (first === 'build' || first === 'node_modules' || word.startsWith('docs/dist')) continue;
    out.push(word.replace(/\/$/, ''));
  }
  return out;
}

export interface CheckContext {
  readonly facts: RepoFacts;
  readonly source: string; // the page's repository path
  readonly problems: Problem[];
  readonly forStudents: boolean; // rule 6 applies
}

// Commands that need solutions/ or act on the course itself (rule 6).
const INSTRUCTOR_COMMANDS = /\bnpm\s+run\s+(test:solution|build:solution|course)\b/g;

function report(ctx: CheckContext, line: number, message: string): void {
  ctx.problems.push({ file: ctx.source, line, message });
}

// Rules 1, 3 and 4 over a piece of text (prose, a code span or a shell fence).
export function checkText(ctx: CheckContext, text: string, line: number, kind: 'prose' | 'code' | 'shell'): void {
  const lines = text.split('\n');
  lines.forEach((l, i) => {
    const at = line + (kind === 'prose' ? 0 : i);
    // The filters of `npm test -- <filter>` are checked as filters (rule 4), not as paths.
    const withoutFilters = l.replace(/(\bnpm\s+(?:test|run\s+test(?::solution)?)\s+--)\s+[\w./-]+/g, '$1');
    for (const p of pathCandidates(withoutFilters, ctx.facts)) {
      const withoutLine = p.replace(/:\d+(?::\d+)?$/, '');
      if (!repoPathExists(withoutLine)) report(ctx, at, `names '${withoutLine}', which does not exist in the repository`);
    }
    if (ctx.forStudents) {
      for (const m of l.matchAll(INSTRUCTOR_COMMANDS)) {
        report(ctx, at, `'npm run ${m[1] ?? ''}' is for instructors (the student release cannot run it): leave it out of pages students read`);
      }
    }
    for (const m of l.matchAll(/\bnpm\s+(?:run(?:-script)?\s+([\w:.-]+)|(test|start)\b)/g)) {
      const script = m[1] ?? m[2] ?? '';
      if (!ctx.facts.scripts.has(script)) report(ctx, at, `'npm run ${script}': package.json has no script '${script}'`);
    }
    for (const m of l.matchAll(/\bnpm\s+(?:test|run\s+test(?::solution)?)\s+--\s+([^`|;&\n]*)/g)) {
      for (const filter of (m[1] ?? '').trim().split(/\s+/)) {
        if (filter === '' || filter.startsWith('-')) continue;
        if (!/^[\w./-]+$/.test(filter)) break; // the rest of a sentence, not a filter
        if (!ctx.facts.testFiles.some((t) => t.includes(filter))) {
          report(ctx, at, `'npm test -- ${filter}' matches no test file (filters match test file paths)`);
        }
      }
    }
  });
}

// Rules 2 and 5, for a code span.
export function checkCodeSpan(ctx: CheckContext, code: string, line: number): void {
  checkText(ctx, code, line, 'code');
  const trimmed = code.trim();
  if (/^[\w./-]+\.test\.ts$/.test(trimmed)) {
    const candidates = trimmed.includes('/')
      ? [trimmed, posix.normalize(posix.join(posix.dirname(ctx.source), trimmed))]
      : [];
    const found = trimmed.includes('/')
      ? candidates.some((c) => repoPathExists(c))
      : ctx.facts.testFiles.some((t) => basename(t) === trimmed);
    if (!found) report(ctx, line, `names the test file '${trimmed}', which does not exist`);
  }
  const graded = /^\[(\d+\.\d+)\]\s+(.+)$/.exec(trimmed);
  if (graded !== null && !/[<>]/.test(graded[2] ?? '')) {
    const id = graded[1] ?? '';
    const name = graded[2] ?? '';
    const entry = ctx.facts.checklist.get(id);
    if (entry === undefined) {
      report(ctx, line, `names checklist item ${id}, which no phase*/checklist.ts declares`);
      return;
    }
    const tests = ctx.facts.testFiles.filter((t) => t.startsWith(`${entry.phaseDir}/`));
    const quoted = [`'${name}'`, `"${name}"`, `\`${name}\``];
    const hit = tests.some((t) => {
      const src = readFileSync(join(REPO_ROOT, t), 'utf8');
      return src.includes(`checklist.${entry.key}`) && quoted.some((q) => src.includes(q));
    });
    if (!hit) report(ctx, line, `names the graded test '[${id}] ${name}', which no test of item ${id} in ${entry.phaseDir}/ defines`);
  }
}
