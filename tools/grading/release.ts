// The student release: the course without solutions/, hidden suites or mutants, with skeletons as
// committed and the instructor-only build targets taken out, and a README written for students.
//
// A release can be staged: `--through phase1` hands out phase 1 alone. Later phases' folders stay
// out, and so does what the registry (lib/phases.ts, `given`) says a later phase hands out: from
// phase 2 on native-common gives the segment and the robust mutex, which are phase 1's answer.
// binding.gyp keeps only the targets whose sources the release has. A later export into the same
// folder adds the next phase and leaves the student's files of the phases already handed out as
// they are. `.miniray-release.json` records what was shipped, so that `npm run submit` can tell a
// student's work from the skeleton without git.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';

import { COURSE_PHASES, type PhaseId, type PhaseInfo } from '../../lib/phases.js';
import { INSTRUCTOR_DOCS, studentLockfile, studentPackageJson } from '../docs/release.js';
import { committedFile, courseFiles } from './course-files.js';
import { MANIFEST_DIR, type PhaseManifest } from './manifest.js';
import { studentReadme } from './release-readme.js';

// Instructor-only: the reference code, hidden suites and mutants, CI, and the grading tools' own
// tests (they need the reference). The scripts stay: in the
// release, `verify` checks what a student's checkout can (typecheck, build, the site) and the
// `:solution` scripts say that solutions are not part of it.
const DROP_PREFIXES = ['solutions/', '.ci/', 'tools/test/'];
const DROP_FILES = new Set<string>(INSTRUCTOR_DOCS);
const DROP_SCRIPTS: readonly string[] = [];

export const RELEASE_RECORD = '.miniray-release.json';
const RECORD_FORMAT = 'miniray-release/1';

export interface ReleaseRecord {
  readonly format: string;
  readonly through: PhaseId;
  readonly phases: readonly PhaseId[];
  readonly exportedAt: string;
  // Each student file as shipped (sha256): what `npm run submit` compares a student's file with.
  readonly skeletons: Readonly<Record<string, string>>;
  // Every other file written (sha256): on a later export, which of them the student changed.
  readonly files: Readonly<Record<string, string>>;
}

export const sha256 = (content: Buffer | string): string => createHash('sha256').update(content).digest('hex');

export function readReleaseRecord(root: string): ReleaseRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(join(root, RELEASE_RECORD), 'utf8')) as ReleaseRecord;
    return r.format === RECORD_FORMAT ? r : undefined;
  } catch {
    return undefined;
  }
}

// The sha256 of a student file as shipped: from the release record in a student release (whatever
// git says: a student's commit is not the skeleton), else, in the course itself, as committed.
export function shippedSkeletonHash(root: string, rel: string): string | undefined {
  const record = readReleaseRecord(root);
  if (record !== undefined) return record.skeletons[rel];
  if (!existsSync(join(root, 'solutions'))) return undefined; // a release from before the record
  const committed = committedFile(root, rel);
  return committed === undefined ? undefined : sha256(committed);
}

// ---- which files a release through a phase holds -----------------------------------------------

export interface ReleasePlan {
  readonly phases: readonly PhaseInfo[]; // handed out
  readonly later: readonly PhaseInfo[]; // not yet
  includes(rel: string): boolean;
}

export function releasePlan(through: PhaseId | undefined): ReleasePlan {
  const last = through === undefined ? COURSE_PHASES.length - 1 : COURSE_PHASES.findIndex((p) => p.id === through);
  if (last < 0) throw new Error(`unknown phase ${through} (known: ${COURSE_PHASES.map((p) => p.id).join(', ')})`);
  const phases = COURSE_PHASES.slice(0, last + 1);
  const later = COURSE_PHASES.slice(last + 1);
  const laterGiven = new Set(later.flatMap((p) => [...(p.given ?? []), ...(p.arrives ?? []).filter((f) => !f.endsWith('/'))]));
  const laterFolders = later.flatMap((p) => (p.arrives ?? []).filter((f) => f.endsWith('/')));
  // Names of later phases, by folder (phase2-objects/) or by id (tools/bench/phases/phase2.ts,
  // tools/grading/manifests/phase2.json); 'phase3' counts even before lib/phases.ts has phase 3.
  const laterNames = (segment: string): boolean => {
    if (later.some((p) => segment === p.dir)) return true;
    const m = /^phase(\d+)(\.[a-z]+)?$/.exec(segment);
    return m !== null && Number(m[1]) > last + 1;
  };
  return {
    phases,
    later,
    includes(rel) {
      if (DROP_PREFIXES.some((p) => rel.startsWith(p)) || DROP_FILES.has(rel) || laterGiven.has(rel)) return false;
      if (laterFolders.some((f) => rel.startsWith(f))) return false;
      return !rel.split('/').some(laterNames);
    },
  };
}

// ---- binding.gyp -------------------------------------------------------------------------------

interface GypTarget {
  readonly target_name: string;
  readonly sources?: readonly string[];
  readonly dependencies?: readonly string[];
}

// Walks a gyp file (a Python literal): calls `onString` for each string, skips comments.
function scanGyp(gyp: string, on: { string?: (value: string, raw: string) => void; other?: (c: string, at: number) => void }): void {
  for (let i = 0; i < gyp.length; i += 1) {
    const c = gyp[i] ?? '';
    if (c === '#') {
      while (i < gyp.length && gyp[i] !== '\n') i += 1;
      on.other?.('\n', i);
    } else if (c === "'" || c === '"') {
      const start = i;
      let value = '';
      for (i += 1; i < gyp.length && gyp[i] !== c; i += 1) {
        if (gyp[i] === '\\') i += 1;
        value += gyp[i] ?? '';
      }
      on.string?.(value, gyp.slice(start, i + 1));
    } else {
      on.other?.(c, i);
    }
  }
}

// binding.gyp as data (strings made JSON, comments and trailing commas dropped).
export function parseGyp(gyp: string): { targets: GypTarget[] } {
  let json = '';
  scanGyp(gyp, {
    string: (value) => (json += JSON.stringify(value)),
    other: (c) => (json += c),
  });
  return JSON.parse(json.replace(/,(\s*[}\]])/g, '$1')) as { targets: GypTarget[] };
}

// Removes the targets `drop` names from a binding.gyp, with the comment lines directly above each,
// leaving the rest of the text as it was.
export function stripTargets(gyp: string, drop: (name: string) => boolean): string {
  const pairs: Array<{ open: number; close: number }> = [];
  const stack: number[] = [];
  scanGyp(gyp, {
    other: (c, at) => {
      if (c === '{') stack.push(at);
      else if (c === '}') {
        const open = stack.pop();
        if (open !== undefined) pairs.push({ open, close: at });
      }
    },
  });
  const cuts: Array<{ from: number; to: number }> = [];
  for (const m of gyp.matchAll(/['"]target_name['"]\s*:\s*['"]([A-Za-z0-9_]+)['"]/g)) {
    if (!drop(m[1] ?? '')) continue;
    const at = m.index;
    const inner = pairs.filter((p) => p.open < at && at < p.close).sort((a, b) => b.open - a.open)[0];
    if (inner === undefined) continue;
    let from = gyp.lastIndexOf('\n', inner.open) + 1;
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

export function stripSolutionTargets(gyp: string): string {
  return stripTargets(gyp, (name) => name.endsWith('_solution'));
}

// The release's binding.gyp: no reference targets, and no target whose sources (or whose
// dependencies' sources) the release lacks.
export function releaseGyp(gyp: string, has: (rel: string) => boolean): string {
  const targets = parseGyp(gyp).targets;
  const names = new Set(targets.map((t) => t.target_name));
  const dropped = new Set(targets.filter((t) => t.target_name.endsWith('_solution')).map((t) => t.target_name));
  for (let changed = true; changed; ) {
    changed = false;
    for (const t of targets) {
      if (dropped.has(t.target_name)) continue;
      const missing = (t.sources ?? []).some((s) => !has(s));
      const lost = (t.dependencies ?? []).some((d) => names.has(d) && dropped.has(d));
      if (missing || lost) {
        dropped.add(t.target_name);
        changed = true;
      }
    }
  }
  return stripTargets(gyp, (name) => dropped.has(name));
}

// ---- text of the release -----------------------------------------------------------------------

// Links into a phase the release does not have yet, or to a file a later phase brings (a lesson
// page such as docs/putting-it-together.md), become plain text (the site's build refuses broken
// links): Markdown links keep their text, HTML anchors become spans. `source` is the page's path,
// against which relative links resolve.
export function unlinkLaterPhases(markdown: string, later: readonly PhaseInfo[], source = ''): string {
  if (later.length === 0) return markdown;
  const laterFiles = new Set(later.flatMap((p) => [...(p.given ?? []), ...(p.arrives ?? [])]));
  const points = (href: string): boolean => {
    if (later.some((p) => new RegExp(`(^|/)${p.dir}(/|$)`).test(href))) return true;
    if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('#')) return false;
    const path = posix.normalize(posix.join(posix.dirname(source), href.replace(/[#?].*$/, '')));
    return laterFiles.has(path) || [...laterFiles].some((f) => f.endsWith('/') && path.startsWith(f));
  };
  return markdown
    .replace(/\[([^\]]*)\]\(([^)\s]+)\)/g, (all, text: string, href: string) => (points(href) ? text : all))
    .replace(/<a href="([^"]+)">([\s\S]*?)<\/a>/g, (all, href: string, inner: string) => (points(href) ? `<span class="later">${inner}</span>` : all));
}

// The benchmark block of the course README, without rows of phases not handed out.
function benchBlock(readme: string, later: readonly PhaseInfo[]): string | undefined {
  const m = /<!-- bench:begin -->[\s\S]*?<!-- bench:end -->/.exec(readme);
  if (m === null) return undefined;
  const laterRow = (line: string): boolean => later.some((p) => line.startsWith(`| ${p.id} `) || line.startsWith(`- met: ${p.id} `));
  return m[0]
    .split('\n')
    .filter((l) => !laterRow(l))
    .join('\n');
}

// ---- export ------------------------------------------------------------------------------------

export interface ExportOptions {
  readonly force?: boolean;
  readonly through?: PhaseId;
}

export interface ExportResult {
  readonly out: string;
  readonly files: number;
  readonly phases: readonly PhaseId[];
  readonly added: readonly PhaseId[]; // phases this export handed out for the first time
  readonly kept: readonly string[]; // student files left as the student has them
  readonly notes: readonly string[];
}

export function exportRelease(from: string, out: string, options: ExportOptions = {}): ExportResult {
  const previous = readReleaseRecord(out);
  if (previous === undefined && existsSync(out) && readdirSync(out).length > 0 && options.force !== true) {
    throw new Error(`${out} exists, is not empty and is not a release (--force to write into it anyway)`);
  }
  const plan = releasePlan(options.through);
  if (previous !== undefined) {
    const lost = previous.phases.filter((id) => !plan.phases.some((p) => p.id === id));
    if (lost.length > 0) throw new Error(`${out} already has ${lost.join(', ')}: a release only grows (use --through ${previous.through} or later)`);
  }
  const notes: string[] = [];
  const files = courseFiles(from).filter((f) => plan.includes(f));
  const has = new Set(files);
  const studentFiles = new Map(plan.phases.flatMap((p) => p.studentFiles.map((f) => [f, p.id] as const)));
  const skeletons: Record<string, string> = { ...previous?.skeletons };
  const written: Record<string, string> = {};
  const kept: string[] = [];
  const write = (rel: string, content: string | Buffer): void => {
    const dst = join(out, rel);
    const recorded = previous?.files[rel];
    if (recorded !== undefined && existsSync(dst) && sha256(readFileSync(dst)) !== recorded && sha256(content) !== recorded) {
      notes.push(`${rel}: your changes to this given file were replaced by the new release's version`);
    }
    mkdirSync(dirname(dst), { recursive: true });
    writeFileSync(dst, content);
    written[rel] = sha256(content);
  };
  for (const rel of files) {
    const text = (): string => readFileSync(join(from, rel), 'utf8');
    const phase = studentFiles.get(rel);
    if (phase !== undefined) {
      // A phase handed out before: the student's files stay as they are.
      if (previous?.phases.includes(phase) === true && existsSync(join(out, rel))) {
        kept.push(rel);
        continue;
      }
      // Skeletons as committed, whatever this checkout's working copy holds.
      const skeleton = committedFile(from, rel) ?? readFileSync(join(from, rel));
      skeletons[rel] = sha256(skeleton);
      mkdirSync(dirname(join(out, rel)), { recursive: true });
      writeFileSync(join(out, rel), skeleton);
    } else if (rel === 'binding.gyp') {
      const stripped = releaseGyp(text(), (s) => has.has(s));
      if (/['"]solutions\//.test(stripped)) throw new Error('binding.gyp still names solutions/ after stripping the *_solution targets');
      write(rel, stripped);
    } else if (rel === 'package.json') {
      const pkg = JSON.parse(studentPackageJson(text())) as { scripts?: Record<string, string> };
      for (const s of DROP_SCRIPTS) delete pkg.scripts?.[s];
      write(rel, `${JSON.stringify(pkg, null, 2)}\n`);
    } else if (rel === 'package-lock.json') {
      write(rel, studentLockfile(text()));
    } else if (rel === 'README.md') {
      write(rel, studentReadme(plan.phases, benchBlock(text(), plan.later)));
    } else if (rel.startsWith(`${MANIFEST_DIR}/`) && rel.endsWith('.json')) {
      const m = JSON.parse(text()) as PhaseManifest;
      write(rel, `${JSON.stringify({ ...m, tests: m.tests.filter((t) => !t.hidden) }, null, 2)}\n`);
    } else if (rel.endsWith('.md')) {
      write(rel, unlinkLaterPhases(text(), plan.later, rel));
    } else {
      write(rel, readFileSync(join(from, rel)));
    }
  }
  for (const rel of files) {
    // The grading tools name solutions/ on purpose (and say it is absent); anything else is a leak.
    if (/\.(ts|json|gyp|cc|h)$/.test(rel) && !rel.startsWith('tools/') && existsSync(join(out, rel)) && readFileSync(join(out, rel), 'utf8').includes('solutions/mutants')) {
      notes.push(`${rel} mentions solutions/mutants`);
    }
  }
  const record: ReleaseRecord = {
    format: RECORD_FORMAT,
    through: plan.phases.at(-1)?.id ?? 'phase1',
    phases: plan.phases.map((p) => p.id),
    exportedAt: new Date().toISOString(),
    skeletons,
    files: written,
  };
  writeFileSync(join(out, RELEASE_RECORD), `${JSON.stringify(record, null, 2)}\n`);
  return {
    out,
    files: files.length,
    phases: record.phases,
    added: record.phases.filter((id) => previous?.phases.includes(id) !== true),
    kept,
    notes,
  };
}
