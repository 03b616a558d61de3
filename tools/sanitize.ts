// The sanitizer run (a step of `npm run verify`; alone: `npx tsx tools/sanitize.ts [phaseN ...]`).
//
// Every phase's reference and native-common are built with AddressSanitizer and
// UndefinedBehaviorSanitizer into build/sanitize/ (the same Makefile as the normal build, another
// build directory and extra flags, so normal builds stay as fast as they were), then every phase's
// suites run against that build: the public and hidden suites and the reference self-tests. Clean means
// every test passes and no process of the run wrote a sanitizer report.
//
// Node itself is not instrumented, so ASan's runtime is preloaded (LD_PRELOAD) into every process
// of the run, the tests' child processes included. Its leak checker is off: node does not free
// everything at exit, by design, and its "leaks" would drown ours. UBSan stops a process at its
// first report. Reports go to build/sanitize/reports/ and are printed when there are any.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

import { BUILD_DIR, PHASES, REPO_ROOT, hasSolutions, targetName } from '../lib/phases.js';
import { buildTarget } from './build.js';

const OUT_DIR = join(BUILD_DIR, 'sanitize');
const REPORTS = join(OUT_DIR, 'reports');

// -O0: the build is most of this step's CPU, and with ASan + UBSan instrumentation -O0 compiles in
// about half of -O1's CPU (phase 4's glue: 5.4 s against 12.3 s); the tests wait on processes and
// futexes far more than they compute, so the slower code costs little. ASan and UBSan check the same
// at every level, and the stacks are the most exact (node's -O3 comes first; the last -O wins).
// -g1: line tables only, all a sanitizer's stack trace shows (file:line of every frame), and less to
// compile and link than full debug information.
// float-cast-overflow is not part of -fsanitize=undefined in GCC: a double too large for an integer
// (2^63 from JavaScript) is exactly the kind of input the glue must refuse before converting.
const SANITIZE = '-fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all -fno-omit-frame-pointer -g1 -O0';

function runtime(name: string): string {
  const r = spawnSync('g++', [`-print-file-name=${name}`], { encoding: 'utf8' });
  const path = (r.stdout ?? '').trim();
  if (r.status !== 0 || !isAbsolute(path) || !existsSync(path)) {
    throw new Error(`the sanitizer runtime ${name} is not installed (on Debian: apt-get install libasan8 libubsan1)`);
  }
  return path;
}

// Runs vitest (with `config`, or the default one) on `filters` (every file when empty).
function vitest(filters: readonly string[], config: string | undefined, env: NodeJS.ProcessEnv): number {
  const args = ['--no-install', 'vitest', 'run', ...(config === undefined ? [] : ['--config', config]), '--passWithNoTests', ...filters];
  return spawnSync('npx', args, { cwd: REPO_ROOT, stdio: 'inherit', env }).status ?? 1;
}

function main(argv: readonly string[]): number {
  if (!hasSolutions()) {
    console.error('sanitize: this is the student release: it has no solutions/ to build');
    return 2;
  }
  const wanted = argv.filter((a) => /^phase\d$/.test(a));
  const phases = PHASES.filter((p) => (wanted.length === 0 || wanted.includes(p.id)) && existsSync(join(REPO_ROOT, 'solutions', p.dir, 'src')));
  const asan = runtime('libasan.so');
  runtime('libubsan.so');

  const t0 = Date.now();
  for (const p of phases) {
    const target = targetName(p.id, 'solution');
    const status = buildTarget(target, [`builddir=${OUT_DIR}`, `CXXFLAGS=${SANITIZE}`, `CFLAGS=${SANITIZE}`, 'LDFLAGS=-fsanitize=address,undefined']);
    if (!status.ok) {
      console.error(`sanitize: ${target} does not compile with sanitizers:\n  ${status.diagnostics.join('\n  ')}`);
      return 1;
    }
  }
  console.log(`sanitize: built ${phases.map((p) => targetName(p.id, 'solution')).join(', ')} with ASan + UBSan in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  rmSync(REPORTS, { recursive: true, force: true });
  mkdirSync(REPORTS, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LD_PRELOAD: [asan, process.env.LD_PRELOAD].filter((s) => s !== undefined && s !== '').join(':'),
    // malloc_context_size: ASan records the stack of every malloc and free for its reports; with the
    // runtime preloaded into node, that is every allocation V8 and libuv make, in every process of
    // the run. 3 frames instead of 30 (the allocating or freeing call and its callers) cut the
    // hidden suites' CPU by about a fifth; what ASan detects, and the full stack of the bad access
    // itself, are unchanged.
    ASAN_OPTIONS: `detect_leaks=0:malloc_context_size=3:log_path=${join(REPORTS, 'asan')}`,
    UBSAN_OPTIONS: `halt_on_error=1:print_stacktrace=1:log_path=${join(REPORTS, 'ubsan')}`,
    MINIRAY_ADDON_DIR: OUT_DIR,
    MINIRAY_IMPL: 'solution',
    MINIRAY_SKIP_BUILD: '1',
  };
  // Each phase's public and hidden suites (`<dir>/` selects both), once; with --hidden-only (what
  // `npm run verify` asks for, to keep within its time) the hidden suites alone: they drive the same
  // code as the public ones, harder, and hold about 70% of the suites' time. The runtime's suite is
  // left out: it drives the phase-2 and phase-3 builds these suites already cover, through worker
  // processes that would each start node under ASan.
  const hiddenOnly = argv.includes('--hidden-only');
  const filters = phases.map((p) => `${p.dir}/`);
  const suiteFilters = hiddenOnly ? phases.map((p) => `solutions/${p.dir}/hidden/`) : filters;
  if (hiddenOnly) console.log('sanitize: --hidden-only: the hidden suites and the self-tests (the public suites run without sanitizers)');
  const t1 = Date.now();
  const suites = vitest(suiteFilters, undefined, env);
  const t2 = Date.now();
  const selftests = vitest(filters, 'vitest.selftest.config.ts', env);
  const t3 = Date.now();
  const took = (a: number, b: number): string => `${((b - a) / 1000).toFixed(1)} s`;
  console.log(`sanitize: build ${took(t0, t1)}, suites ${took(t1, t2)}, self-tests ${took(t2, t3)}`);

  const reports = readdirSync(REPORTS);
  for (const f of reports) {
    console.error(`\n=== sanitizer report ${f} ===\n${readFileSync(join(REPORTS, f), 'utf8')}`);
  }
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (suites !== 0 || selftests !== 0 || reports.length > 0) {
    console.error(`\nsanitize: FAILED after ${secs} s (suites exit ${suites}, self-tests exit ${selftests}, ${reports.length} sanitizer reports)`);
    return 1;
  }
  console.log(`\nsanitize: clean (every suite passed under ASan + UBSan, no reports) in ${secs} s`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
