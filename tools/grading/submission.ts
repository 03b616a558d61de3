// A submission: an archive made by `npm run submit` (or any tar of a student's tree), or a
// directory: a student's tree, a directory holding one such archive, or the student files
// uploaded loose (as Gradescope stores an upload: shm_store.cc, not phase1-shm/src/shm_store.cc).
// Only the student-editable files of the graded phases are taken from it; a symlink, a huge file
// or anything else is refused, and a missing file falls back to the untouched skeleton.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';

import { PHASES, type PhaseId, type PhaseInfo } from '../../lib/phases.js';

export const SUBMISSION_FORMAT = 'miniray-submission/1';
const MAX_FILE_BYTES = 2 << 20;

export interface SubmissionManifest {
  readonly format: string;
  readonly phases: readonly PhaseId[];
  readonly files: ReadonlyArray<{ readonly path: string; readonly bytes: number; readonly sha256: string }>;
  readonly createdAt: string;
}

export interface Submission {
  readonly source: string;
  readonly phases: readonly PhaseInfo[];
  readonly files: ReadonlyMap<string, Buffer>; // repo-relative path -> content
  readonly missing: readonly string[]; // student files the submission lacks
  readonly refused: readonly string[]; // files present but not taken, with why
  readonly manifest: SubmissionManifest | undefined;
  dispose(): void;
}

function hasAnyStudentFile(dir: string): boolean {
  return PHASES.some((p) => p.studentFiles.some((f) => existsSync(join(dir, f))));
}

// The directory inside an unpacked submission that holds the repo paths (it may be nested one or
// two levels, e.g. a tar of the student's whole checkout).
function findRoot(base: string): string {
  const queue: Array<{ dir: string; depth: number }> = [{ dir: base, depth: 0 }];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    if (existsSync(join(next.dir, 'manifest.json')) || hasAnyStudentFile(next.dir)) return next.dir;
    if (next.depth >= 2) continue;
    for (const e of readdirSync(next.dir, { withFileTypes: true })) {
      if (e.isDirectory() && e.name !== 'node_modules' && e.name !== '.git') {
        queue.push({ dir: join(next.dir, e.name), depth: next.depth + 1 });
      }
    }
  }
  return base;
}

// A directory that holds no student file but one archive (an upload of npm run submit's .tgz).
function archiveIn(dir: string): string | undefined {
  if (!statSync(dir).isDirectory() || hasAnyStudentFile(dir)) return undefined;
  const archives = readdirSync(dir).filter((n) => /\.(tgz|tar\.gz|tar)$/.test(n));
  return archives.length === 1 ? join(dir, archives[0] ?? '') : undefined;
}

export function readSubmission(path: string, requested: readonly PhaseId[]): Submission {
  const given = resolve(path);
  if (!existsSync(given)) throw new Error(`no submission at ${given}`);
  const source = archiveIn(given) ?? given;
  let unpacked: string | undefined;
  let base = source;
  if (statSync(source).isFile()) {
    unpacked = mkdtempSync(join(tmpdir(), 'miniray-submission-'));
    // GNU tar refuses members with '..' and strips leading '/', so nothing lands outside `unpacked`.
    const r = spawnSync('tar', ['-xf', source, '-C', unpacked, '--no-same-owner', '--no-same-permissions'], {
      encoding: 'utf8',
    });
    if (r.status !== 0) {
      rmSync(unpacked, { recursive: true, force: true });
      throw new Error(`cannot unpack ${source} (a .tgz from npm run submit, or any tar): ${r.stderr.trim()}`);
    }
    base = unpacked;
  }
  const root = findRoot(base);
  let manifest: SubmissionManifest | undefined;
  const manifestFile = join(root, 'manifest.json');
  if (existsSync(manifestFile) && lstatSync(manifestFile).isFile()) {
    try {
      const parsed = JSON.parse(readFileSync(manifestFile, 'utf8')) as SubmissionManifest;
      if (parsed.format === SUBMISSION_FORMAT) manifest = parsed;
    } catch {
      // not ours: ignore it
    }
  }
  const ids: readonly PhaseId[] =
    requested.length > 0
      ? requested
      : manifest !== undefined
        ? manifest.phases
        : PHASES.filter((p) => p.studentFiles.some((f) => existsSync(join(root, f)))).map((p) => p.id);
  const phases = PHASES.filter((p) => ids.includes(p.id));
  const files = new Map<string, Buffer>();
  const missing: string[] = [];
  const refused: string[] = [];
  for (const phase of phases) {
    for (const rel of phase.studentFiles) {
      let file = join(root, rel);
      // Uploaded loose: the file's own name at the top of the submission, if no other student file shares it.
      const loose = join(base, basename(rel));
      const unique = PHASES.flatMap((p) => p.studentFiles).filter((f) => basename(f) === basename(rel)).length === 1;
      if (!existsSync(file) && unique && existsSync(loose)) file = loose;
      if (!existsSync(file)) {
        missing.push(rel);
        continue;
      }
      const st = lstatSync(file);
      if (!st.isFile()) refused.push(`${rel}: not a regular file (a symlink?)`);
      else if (st.size > MAX_FILE_BYTES) refused.push(`${rel}: ${st.size} bytes, more than ${MAX_FILE_BYTES}`);
      else files.set(rel, readFileSync(file));
    }
  }
  return {
    source,
    phases,
    files,
    missing,
    refused,
    manifest,
    dispose() {
      if (unpacked !== undefined) rmSync(unpacked, { recursive: true, force: true });
    },
  };
}
