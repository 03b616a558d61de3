// Incremental build of the native addons, one target at a time.
//
//   npx tsx tools/build.ts [--student | --solution | --all] [phase1 phase2 ...] [--quiet]
//
// Every target builds on its own, so a compile error in one phase never stops another. The result
// of each build is written to build/status/<target>.json; a failed target's stale .node is removed,
// so tests always run the code as it is on disk and report the compiler's errors instead.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import type { BuildStatus } from '../lib/native.js';
import { processAlive } from '../lib/process.js';
import {
  BUILD_DIR,
  PHASES,
  REPO_ROOT,
  STATUS_DIR,
  hasSolutions,
  targetName,
  type Impl,
  type PhaseId,
} from '../lib/phases.js';

const require = createRequire(import.meta.url);

// Node's headers ship with this machine's node (npm's `nodedir`); pass them explicitly so that no
// build ever tries to download them.
function nodeDir(): string | undefined {
  const fromNpm = process.env.npm_config_nodedir;
  if (fromNpm !== undefined && fromNpm !== '') return fromNpm;
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'common.gypi')) ? prefix : undefined;
}

function mtime(file: string): number {
  return existsSync(file) ? statSync(file).mtimeMs : 0;
}

function configure(): void {
  const makefile = join(BUILD_DIR, 'Makefile');
  if (mtime(makefile) > mtime(join(REPO_ROOT, 'binding.gyp'))) return;
  const gyp = require.resolve('node-gyp/bin/node-gyp.js');
  const dir = nodeDir();
  const args = [gyp, 'configure', ...(dir === undefined ? [] : [`--nodedir=${dir}`])];
  const r = spawnSync(process.execPath, args, { cwd: REPO_ROOT, encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`node-gyp configure failed:\n${r.stdout}\n${r.stderr}`);
  }
}

// Turns g++ / ld output into `file:line: message` lines relative to the repository.
export function diagnostics(output: string): string[] {
  const out: string[] = [];
  for (const line of output.split('\n')) {
    const m = /^(.+?):(\d+):(?:\d+:)? (fatal error|error|warning|note): (.*)$/.exec(line);
    if (m !== null) {
      const file = relative(REPO_ROOT, resolve(BUILD_DIR, m[1] ?? ''));
      if (m[3] === 'note' && out.length === 0) continue;
      out.push(`${file}:${m[2]}: ${m[3]}: ${m[4]}`);
    } else if (/undefined reference to|multiple definition of|collect2: error/.test(line)) {
      out.push(line.trim());
    }
  }
  if (out.length === 0) {
    const tail = output.trim().split('\n').slice(-15);
    out.push(...tail);
  }
  return out.slice(0, 40);
}

export interface BuildOptions {
  readonly impls: readonly Impl[];
  readonly phases?: readonly PhaseId[];
  readonly quiet?: boolean;
}

// Several test runs may build at once (two terminals, a grader): one make at a time per build/.
const LOCK_DIR = join(BUILD_DIR, '.lock');

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function withBuildLock<T>(body: () => T): T {
  mkdirSync(BUILD_DIR, { recursive: true });
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      writeFileSync(join(LOCK_DIR, 'pid'), String(process.pid));
      break;
    } catch {
      let holder = 0;
      try {
        holder = Number(readFileSync(join(LOCK_DIR, 'pid'), 'utf8'));
      } catch {
        // the holder is between mkdir and writing its pid, or just released
      }
      if (holder > 0 && !processAlive(holder)) rmSync(LOCK_DIR, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`build lock ${LOCK_DIR} held for too long by pid ${holder}`);
      sleepMs(100);
    }
  }
  try {
    return body();
  } finally {
    rmSync(LOCK_DIR, { recursive: true, force: true });
  }
}

export function build(options: BuildOptions): BuildStatus[] {
  return withBuildLock(() => buildLocked(options));
}

// The warnings of a successful build, file by file: make recompiles only what changed, so the
// warnings of a file it did not recompile this time are carried over from the last status.
function warningsOf(target: string, output: string, previous: BuildStatus | undefined): string[] {
  const compiled = new Set(
    [...output.matchAll(/CXX\(target\) \S*?obj\.target\/[^/]+\/(\S+)\.o\b/g)].map((m) => (m[1] ?? '').replace(/\.$/, '')),
  );
  const stem = (w: string): string => (w.split(':')[0] ?? '').replace(/\.(cc|h)$/, '');
  const kept = (previous?.target === target ? (previous.warnings ?? []) : []).filter((w) => !compiled.has(stem(w)));
  const fresh = diagnostics(output).filter((d) => /^[^:]+:\d+: warning: /.test(d));
  return [...new Set([...kept, ...fresh])];
}

function readStatus(target: string): BuildStatus | undefined {
  try {
    return JSON.parse(readFileSync(join(STATUS_DIR, `${target}.json`), 'utf8')) as BuildStatus;
  } catch {
    return undefined;
  }
}

function buildLocked(options: BuildOptions): BuildStatus[] {
  configure();
  mkdirSync(STATUS_DIR, { recursive: true });
  const results: BuildStatus[] = [];
  for (const phase of PHASES) {
    if (options.phases !== undefined && options.phases.length > 0 && !options.phases.includes(phase.id)) {
      continue;
    }
    for (const impl of options.impls) {
      if (impl === 'solution' && !hasSolutions()) continue;
      const target = targetName(phase.id, impl);
      const r = spawnSync('make', ['-C', BUILD_DIR, '-j2', 'BUILDTYPE=Release', target], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      });
      const ok = r.status === 0;
      const output = `${r.stdout}\n${r.stderr}`;
      const warnings = ok ? warningsOf(target, output, readStatus(target)) : [];
      const status: BuildStatus = {
        target,
        ok,
        diagnostics: ok ? [] : diagnostics(output),
        warnings,
        builtAt: new Date().toISOString(),
      };
      if (!ok) rmSync(join(BUILD_DIR, 'Release', `${target}.node`), { force: true });
      writeFileSync(join(STATUS_DIR, `${target}.json`), `${JSON.stringify(status, null, 2)}\n`);
      results.push(status);
      const label = `${phase.id} (${impl})`;
      if (!ok) console.error(`build ${label}: does not compile\n  ${status.diagnostics.join('\n  ')}`);
      else if (warnings.length > 0) console.log(`build ${label}: ok, with ${warnings.length} warning${warnings.length === 1 ? '' : 's'} (they do not stop your build; fix them anyway):\n  ${warnings.join('\n  ')}`);
      else if (!options.quiet) console.log(`build ${label}: ok`);
    }
  }
  return results;
}

// Builds one auxiliary target that belongs to no phase (e.g. `bench_native` for npm run bench).
export function buildTarget(target: string): BuildStatus {
  return withBuildLock(() => {
    configure();
    const r = spawnSync('make', ['-C', BUILD_DIR, '-j2', 'BUILDTYPE=Release', target], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    const ok = r.status === 0;
    return {
      target,
      ok,
      diagnostics: ok ? [] : diagnostics(`${r.stdout}\n${r.stderr}`),
      builtAt: new Date().toISOString(),
    };
  });
}

function main(argv: string[]): number {
  const impls: Impl[] = argv.includes('--all')
    ? ['student', 'solution']
    : argv.includes('--solution')
      ? ['solution']
      : ['student'];
  const phases = argv.filter((a) => /^phase\d$/.test(a)) as PhaseId[];
  if (impls.length === 1 && impls[0] === 'solution' && !hasSolutions()) {
    console.error('build: this is the student release: it has no solutions/ to build');
    return 2;
  }
  const results = build({ impls, phases, quiet: argv.includes('--quiet') });
  return results.every((r) => r.ok) ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = main(process.argv.slice(2));
}
