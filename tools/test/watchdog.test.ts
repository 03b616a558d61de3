// The student's loop on a deliberately broken phase 1 (a scratch copy of the course): Get crashes
// with SIGSEGV on a 1 MiB object, Lock waits without a deadline, and an unused helper warns.
// `npm test` must name the crashed test and its signal, the hung test and the call it is stuck in,
// count every lost test as failed, and leave no process or segment behind; the grader must name
// the same tests and give the lost ones another run; `npm run stress` must report the failure rate.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import type { GradescopeResults } from '../grading/score.js';
import type { Scratch } from '../grading/course-files.js';
import {
  LOCK_WITHOUT_DEADLINE,
  SEGFAULT_IN_GET,
  UNUSED_HELPER,
  markedSegments,
  nodeArgs,
  plantedScratch,
  removeMarkedSegments,
  run,
  settled,
  type Ran,
} from './planted.js';

const MARK = `wd${process.pid}`;
// Hung tests are given up on after 8 s instead of their 30 s timeout plus grace.
const ENV = { MINIRAY_WATCHDOG_LIMIT_MS: '8000', MINIRAY_SEGMENT_MARK: MARK };

const CRASHED = 'phase 1: put and get > [1.3] get(put(bytes)) returns the same bytes, for empty, small and 1 MiB objects';
const HUNG = 'phase 1: the lock > [1.2] a lock held by another process makes lock() fail with ERR_LOCK_TIMEOUT naming its pid';
const LOST_AFTER_CRASH = '[1.3] get() of an unknown id fails with ERR_OBJECT_NOT_FOUND';
const LOST_AFTER_HANG = '[1.2] a process SIGKILLed while holding the lock does not wedge the store';

let scratch: Scratch;
let npmTest: Ran;

beforeAll(async () => {
  scratch = await plantedScratch('watchdog', [SEGFAULT_IN_GET, LOCK_WITHOUT_DEADLINE, UNUSED_HELPER]);
  // Public suites only: the hidden ones would add time and nothing to what is checked here.
  rmSync(join(scratch.root, 'solutions', 'phase1-shm', 'hidden'), { recursive: true, force: true });
  npmTest = await run(process.execPath, [join(scratch.root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'phase1'], {
    cwd: scratch.root,
    env: ENV,
    timeoutMs: 180_000,
  });
}, 200_000);

afterAll(() => {
  removeMarkedSegments(MARK);
  scratch?.dispose();
});

describe('npm test on a student file that crashes, hangs and warns', () => {
  test('the warning is shown and does not stop the build', () => {
    expect(npmTest.output).toMatch(/build phase1 \(student\): ok, with 1 warning/);
    expect(npmTest.output).toMatch(/phase1-shm\/src\/shm_store\.cc:\d+: warning: .*UnusedHelper/);
  });

  test('the crash names the signal, the test and its file', () => {
    expect(npmTest.output).toContain(`killed by SIGSEGV while running '${CRASHED}' in phase1-shm/test/putget.test.ts`);
  });

  test('the hang names the test, its file, the native call and what it waits on', () => {
    expect(npmTest.output).toContain(`hung while running '${HUNG}' in phase1-shm/test/mutex.test.ts`);
    expect(npmTest.output).toMatch(/inside debugLock\(\) of a phase1 store; it was asleep in futex\(\) on a word inside the shared memory segment \/miniray-test-\d+-/);
  });

  test('every test is counted: the lost ones as failed, with why', () => {
    const m = /Tests\s+(\d+) failed \| (\d+) passed \((\d+)\)/.exec(npmTest.output);
    expect(m, `no test summary in:\n${npmTest.output.slice(-3000)}`).not.toBeNull();
    const [failed, passed, total] = [Number(m?.[1]), Number(m?.[2]), Number(m?.[3])];
    expect(failed + passed, 'tests neither passed nor failed').toBe(total);
    expect(failed).toBeGreaterThanOrEqual(4);
    expect(npmTest.output).toMatch(new RegExp(`${LOST_AFTER_CRASH.replace(/[[\]().]/g, '\\$&')}\\s*\\n.*not run: the test process was killed by SIGSEGV`));
    expect(npmTest.output).toMatch(new RegExp(`${LOST_AFTER_HANG.replace(/[[\]().]/g, '\\$&')}\\s*\\n.*not run: the test process hung`));
    expect(npmTest.code).not.toBe(0);
  });

  test('nothing is left behind: no process, no segment', async () => {
    expect(await settled(scratch.root)).toEqual([]);
    expect(markedSegments(MARK)).toEqual([]);
  });
});

describe('the grader and npm run stress on the same code', () => {
  test('the grader names the test that was running, and runs the lost ones again', async () => {
    const out = join(scratch.root, 'grade.json');
    const r = await run(process.execPath, nodeArgs('tools/grade.ts', 'phase1', '--out', out), { cwd: scratch.root, env: ENV, timeoutMs: 240_000 });
    expect(r.code, r.output).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8')) as GradescopeResults;
    const tests = new Map(report.tests.map((t) => [t.name.replace(/^phase1 /, ''), t]));
    const crashed = tests.get(CRASHED.split(' > ').at(-1) ?? '');
    expect(crashed?.status).toBe('failed');
    expect(crashed?.output).toContain('killed by SIGSEGV while running');
    const hung = tests.get(HUNG.split(' > ').at(-1) ?? '');
    expect(hung?.status).toBe('failed');
    expect(hung?.output, r.output.slice(-3000)).toMatch(/^hung while running .* inside debugLock\(\) of a phase1 store/);
    // Lost with the dead process, then run again without the test that killed it: they pass.
    expect(tests.get(LOST_AFTER_CRASH)?.status, tests.get(LOST_AFTER_CRASH)?.output).toBe('passed');
    expect(tests.get(LOST_AFTER_HANG)?.status, tests.get(LOST_AFTER_HANG)?.output).toBe('passed');
    expect(report.tests.reduce((s, t) => s + t.max_score, 0)).toBeCloseTo(100, 5);
    expect(await settled(scratch.root)).toEqual([]);
    expect(markedSegments(MARK)).toEqual([]);
  }, 260_000);

  test('npm run stress reports how often each test failed', async () => {
    const r = await run(process.execPath, nodeArgs('tools/stress.ts', 'phase1', 'putget', '--runs', '2'), { cwd: scratch.root, env: ENV, timeoutMs: 180_000 });
    expect(r.code, r.output).toBe(1);
    expect(r.output).toContain('1 of 6 tests failed at least once');
    expect(r.output).toMatch(/✗ \[1\.3\] get\(put\(bytes\)\) returns the same bytes.*2\/2 runs \(100%\)/);
    expect(r.output).toMatch(/run 1: killed by SIGSEGV/);
  }, 200_000);
});
