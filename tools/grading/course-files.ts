// The course's files, committed versions of them, and scratch copies of the course in which a
// submission (or a mutant, or the untouched skeleton) is built and graded without touching the tree.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { sleep } from '../../testkit/watchdog/procs.js';

// Never part of a copy of the course: installed, generated or private to this checkout.
const SKIP_DIRS = new Set(['node_modules', 'build', '.git', '.scratch', 'out']);
const SKIP_PATHS = new Set(['docs/dist', 'grade-report.json', 'bench-report.json']);

export function isGitCheckout(root: string): boolean {
  const r = spawnSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: root, encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() === 'true';
}

function walk(root: string, rel: string, out: string[]): void {
  for (const entry of readdirSync(join(root, rel), { withFileTypes: true })) {
    const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
    if (SKIP_PATHS.has(path)) continue;
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) walk(root, path, out);
    } else if (entry.isFile()) {
      out.push(path);
    }
  }
}

// The course's files relative to `root`: tracked and untracked-but-not-ignored files in a git
// checkout (so a file another author has not committed yet still counts), else a walk of the tree.
export function courseFiles(root: string): string[] {
  let files: string[];
  if (isGitCheckout(root)) {
    const r = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    if (r.status !== 0) throw new Error(`git ls-files failed: ${r.stderr}`);
    files = r.stdout
      .split('\0')
      .filter((f) => f !== '')
      .filter((f) => !SKIP_PATHS.has(f) && !SKIP_DIRS.has(f.split('/')[0] ?? ''))
      .filter((f) => {
        try {
          return lstatSync(join(root, f)).isFile();
        } catch {
          return false; // deleted in the working tree
        }
      });
  } else {
    files = [];
    walk(root, '', files);
  }
  return [...new Set(files)].sort();
}

// A file as committed (HEAD) in a git checkout, else as it is on disk; undefined when absent.
export function committedFile(root: string, rel: string): Buffer | undefined {
  if (isGitCheckout(root)) {
    const r = spawnSync('git', ['show', `HEAD:${rel}`], { cwd: root, maxBuffer: 64 << 20 });
    if (r.status === 0) return r.stdout;
  }
  const path = join(root, rel);
  return existsSync(path) ? readFileSync(path) : undefined;
}

export interface ScratchOptions {
  readonly from: string; // the course root to copy
  readonly files?: readonly string[]; // default: courseFiles(from)
  // Copy from/build too (object files keep their timestamps), so that only what the overlay
  // changes is recompiled.
  readonly reuseBuild?: boolean;
  readonly label?: string;
}

export interface Scratch {
  readonly root: string;
  // Writes files (repo-relative path -> content) over the copy.
  overlay(files: ReadonlyMap<string, Buffer>): void;
  dispose(): void;
}

async function waitForBuildLock(buildDir: string): Promise<void> {
  const lock = join(buildDir, '.lock');
  for (let i = 0; i < 600 && existsSync(lock); i += 1) await sleep(500);
}

export async function makeScratch(options: ScratchOptions): Promise<Scratch> {
  const root = mkdtempSync(join(tmpdir(), `miniray-${options.label ?? 'scratch'}-`));
  const files = options.files ?? courseFiles(options.from);
  for (const rel of files) {
    const dst = join(root, rel);
    mkdirSync(dirname(dst), { recursive: true });
    cpSync(join(options.from, rel), dst, { preserveTimestamps: true });
  }
  symlinkSync(join(options.from, 'node_modules'), join(root, 'node_modules'), 'dir');
  const build = join(options.from, 'build');
  if (options.reuseBuild === true && existsSync(join(build, 'Makefile'))) {
    // A build in progress (another terminal, a test run) would leave half-written objects behind.
    await waitForBuildLock(build);
    cpSync(build, join(root, 'build'), {
      recursive: true,
      preserveTimestamps: true,
      verbatimSymlinks: true,
      // Not the sanitizer build (build/sanitize, 70 MB, being written while verify's other lanes run):
      // nothing in a scratch copy loads it.
      filter: (src) => !src.endsWith('/.lock') && !src.includes('/.lock/') && !src.endsWith('/status') && src !== join(build, 'sanitize'),
    });
  }
  return {
    root,
    overlay(overlayFiles) {
      for (const [rel, content] of overlayFiles) {
        const dst = join(root, rel);
        mkdirSync(dirname(dst), { recursive: true });
        writeFileSync(dst, content);
      }
    },
    dispose() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
