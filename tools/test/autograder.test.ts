// The Gradescope autograder, run as Gradescope runs it: the zip unpacked into <root>/source, the
// student's upload (the .tgz of npm run submit, made from a phase 1 whose Get crashes) in
// <root>/submission, then run_autograder with MINIRAY_AUTOGRADER_ROOT=<root> in place of
// /autograder. results.json must hold every public and hidden test, the crash named; and a grader
// stopped at its time limit must still leave a results.json that says so.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { REPO_ROOT, phaseInfo } from '../../lib/phases.js';
import { buildAutograder } from '../grading/autograder.js';
import type { GradescopeResults } from '../grading/score.js';
import { SEGFAULT_IN_GET, STUDENT_CC, markedSegments, nodeArgs, planted, removeMarkedSegments, run, settled } from './planted.js';

const MARK = `ag${process.pid}`;
let root: string;

const results = (): GradescopeResults => JSON.parse(readFileSync(join(root, 'results', 'results.json'), 'utf8')) as GradescopeResults;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'miniray-autograder-'));
  const source = join(root, 'source');
  mkdirSync(source, { recursive: true });
  const zipFile = join(root, 'autograder.zip');
  writeFileSync(zipFile, buildAutograder(REPO_ROOT, phaseInfo('phase1')).zip);
  const unzip = await run('python3', ['-m', 'zipfile', '-e', zipFile, source], { cwd: root, timeoutMs: 60_000 });
  expect(unzip.code, unzip.output).toBe(0);
  // What setup.sh does on Gradescope (npm ci, a first build), taken from this checkout instead.
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(source, 'node_modules'), 'dir');
  if (existsSync(join(REPO_ROOT, 'build', 'Makefile'))) {
    cpSync(join(REPO_ROOT, 'build'), join(source, 'build'), {
      recursive: true,
      preserveTimestamps: true,
      filter: (src) => !src.includes('/.lock') && !src.endsWith('/status') && src !== join(REPO_ROOT, 'build', 'sanitize'),
    });
  }
  // The student's hand-in: npm run submit, in their own copy.
  const student = mkdtempSync(join(tmpdir(), 'miniray-student-'));
  cpSync(source, student, { recursive: true, dereference: false, verbatimSymlinks: true });
  writeFileSync(join(student, STUDENT_CC), planted([SEGFAULT_IN_GET]));
  cpSync(join(REPO_ROOT, 'solutions', 'phase1-shm', 'src', 'shm_store.h'), join(student, 'phase1-shm', 'src', 'shm_store.h'));
  mkdirSync(join(root, 'submission'));
  const submit = await run(process.execPath, nodeArgs('tools/submit.ts', 'phase1', '--out', join(root, 'submission', 'submission-phase1.tgz')), { cwd: student, timeoutMs: 60_000 });
  rmSync(student, { recursive: true, force: true });
  expect(submit.code, submit.output).toBe(0);
}, 120_000);

afterAll(() => {
  removeMarkedSegments(MARK);
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

describe('run_autograder, laid out as Gradescope does', () => {
  test('grades the public and hidden suites and names the crash in results.json', async () => {
    const r = await run('bash', [join(root, 'source', 'run_autograder')], {
      cwd: root,
      env: { MINIRAY_AUTOGRADER_ROOT: root, MINIRAY_SEGMENT_MARK: MARK },
      timeoutMs: 400_000,
    });
    expect(r.code, r.output).toBe(0);
    const res = results();
    expect(res.max_score).toBe(100);
    expect(res.score, res.output).toBeGreaterThan(0);
    expect(res.score).toBeLessThan(100);
    const hidden = res.tests.filter((t) => t.visibility === 'after_published');
    const visible = res.tests.filter((t) => t.visibility === 'visible');
    expect(hidden.length, 'hidden tests in results.json').toBeGreaterThan(0);
    expect(visible.length, 'public tests in results.json').toBeGreaterThan(0);
    const crashed = res.tests.find((t) => t.name.includes('[1.3] get(put(bytes))'));
    expect(crashed?.status).toBe('failed');
    expect(crashed?.output).toContain("killed by SIGSEGV while running 'phase 1: put and get > [1.3] get(put(bytes))");
    expect(res.output).toContain('taken: phase1-shm/src/shm_store.cc');
    expect(await settled(join(root, 'source'))).toEqual([]);
    expect(markedSegments(MARK)).toEqual([]);
  }, 420_000);

  test('a grader stopped at its time limit still writes results.json, and leaves nothing running', async () => {
    rmSync(join(root, 'results'), { recursive: true, force: true });
    const r = await run('bash', [join(root, 'source', 'run_autograder')], {
      cwd: root,
      env: { MINIRAY_AUTOGRADER_ROOT: root, MINIRAY_AUTOGRADER_SECONDS: '4', MINIRAY_SEGMENT_MARK: MARK },
      timeoutMs: 120_000,
    });
    expect(r.code, r.output).toBe(0);
    const res = results();
    expect(res.score).toBe(0);
    expect(res.output).toMatch(/stopped at its time limit|did not finish/);
    expect(await settled(join(root, 'source'))).toEqual([]);
  }, 150_000);
});
