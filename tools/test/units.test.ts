// The grading tools' pure parts: points shared by weight, a deep comparison summarised, the zip
// writer, binding.gyp trimmed for a staged release, links to later phases, the student README.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, test } from 'vitest';

import { COURSE_PHASES, REPO_ROOT, phaseInfo } from '../../lib/phases.js';
import { summariseDiff } from '../../testkit/mismatch.js';
import { describeKill, type KillRecord } from '../../testkit/watchdog/pool.js';
import { buildAutograder } from '../grading/autograder.js';
import { releaseGyp, releasePlan, stripSolutionTargets, unlinkLaterPhases, parseGyp } from '../grading/release.js';
import { studentReadme } from '../grading/release-readme.js';
import { shares } from '../grading/score.js';
import { zip } from '../grading/zip.js';
import { run } from './planted.js';

describe('points follow weights', () => {
  test('an item is shared in proportion to its tests\' weights, in hundredths that add up', () => {
    expect(shares(25, [1, 1, 3])).toEqual([5, 5, 15]);
    expect(shares(10, [1, 1, 1])).toEqual([3.34, 3.33, 3.33]);
    const s = shares(30, [1, 2, 3, 3, 2]);
    expect(Math.round(s.reduce((a, b) => a + b, 0) * 100)).toBe(3000);
    expect(s[2]).toBeGreaterThan(s[1] ?? 0);
    expect(s[1]).toBeGreaterThan(s[0] ?? 0);
    expect(shares(20, [])).toEqual([]);
  });
});

describe('a failed deep comparison, summarised', () => {
  test('an empty list expected: the count and the first entries', () => {
    const diff = ['- Expected', '+ Received', '', '- []', '+ [', ...Array.from({ length: 100 }, (_, i) => `+   "object ${i} lost",`), '+ ]'].join('\n');
    expect(summariseDiff(diff)).toBe('expected an empty list, got 100 entries: "object 0 lost", "object 1 lost", "object 2 lost" ... and 97 more');
  });

  test('entries that differ: each pair, then the count of the rest', () => {
    const diff = ['- Expected', '+ Received', '', '  [', '    1,', '-   0,', '+   5,', '    6,', '-   13,', '+   12,', '  ]'].join('\n');
    expect(summariseDiff(diff)).toBe('2 entries differ: expected 0, got 5; expected 13, got 12');
  });
});

describe('the watchdog says what happened', () => {
  const base: KillRecord = {
    kind: 'crash',
    pid: 1,
    root: '/r',
    file: '/r/phase1-shm/test/putget.test.ts',
    files: ['/r/phase1-shm/test/putget.test.ts'],
    phase: 'test',
    taskId: 'x',
    test: 'phase 1: put and get > [1.3] get',
    signal: 'SIGBUS',
    code: null,
    elapsedMs: undefined,
    limitMs: undefined,
    calling: undefined,
    blocked: undefined,
    children: 2,
    segments: 1,
    finished: [],
  };

  test('a crash: the signal, the test, the file, and what was cleaned up', () => {
    const text = describeKill(base);
    expect(text).toMatch(/^killed by SIGBUS while running 'phase 1: put and get > \[1\.3\] get' in phase1-shm\/test\/putget\.test\.ts: a bus error/);
    expect(text).toContain('killed 2 child processes it left and removed 1 segment');
  });

  test('a hang: how long, the call and the wait', () => {
    const text = describeKill({ ...base, kind: 'hang', signal: null, elapsedMs: 41_000, limitMs: 30_000, calling: 'put() of a phase1 store', blocked: 'asleep in futex()', children: 0, segments: 0 });
    expect(text).toBe("hung while running 'phase 1: put and get > [1.3] get' in phase1-shm/test/putget.test.ts: no progress for 41 s (its timeout: 30 s), inside put() of a phase1 store; it was asleep in futex(). The watchdog killed its test process; the other test files go on.");
  });
});

describe('the zip writer', () => {
  test('python reads back names, contents and the executable bit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'miniray-zip-'));
    try {
      const big = Buffer.from('x'.repeat(100_000));
      writeFileSync(join(dir, 'a.zip'), zip([
        { name: 'run_autograder', content: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
        { name: 'dir/big.txt', content: big },
        { name: 'empty', content: Buffer.alloc(0) },
      ]));
      const script = "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); print(z.testzip()); [print(i.filename, i.file_size, oct(i.external_attr >> 16)) for i in z.infolist()]";
      const r = await run('python3', ['-c', script, join(dir, 'a.zip')], { cwd: dir, timeoutMs: 30_000 });
      expect(r.output.trim().split('\n')).toEqual(['None', 'run_autograder 18 0o100755', 'dir/big.txt 100000 0o100644', 'empty 0 0o100644']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the autograder bundle', () => {
  test('setup.sh and run_autograder are executable shell that bash accepts; no reference source inside', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'miniray-ag-'));
    try {
      writeFileSync(join(dir, 'a.zip'), buildAutograder(REPO_ROOT, phaseInfo('phase1')).zip);
      const list = await run('python3', ['-c', "import zipfile,sys; [print(i.filename, oct(i.external_attr >> 16)) for i in zipfile.ZipFile(sys.argv[1]).infolist()]", join(dir, 'a.zip')], { cwd: dir, timeoutMs: 30_000 });
      const entries = list.output.trim().split('\n');
      expect(entries).toContain('setup.sh 0o100755');
      expect(entries).toContain('run_autograder 0o100755');
      expect(entries.filter((e) => e.startsWith('solutions/') && !e.startsWith('solutions/phase1-shm/hidden/'))).toEqual([]);
      await run('python3', ['-m', 'zipfile', '-e', join(dir, 'a.zip'), join(dir, 'x')], { cwd: dir, timeoutMs: 30_000 });
      for (const script of ['setup.sh', 'run_autograder']) {
        const r = await run('bash', ['-n', join(dir, 'x', script)], { cwd: dir, timeoutMs: 30_000 });
        expect(r.code, `${script}: ${r.output}`).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a staged release', () => {
  const gyp = readFileSync(join(REPO_ROOT, 'binding.gyp'), 'utf8');
  const first = COURSE_PHASES[0];

  test('binding.gyp keeps only the targets whose sources the release has', () => {
    const plan = releasePlan(first?.id);
    const kept = parseGyp(releaseGyp(gyp, (f) => plan.includes(f))).targets.map((t) => t.target_name);
    expect(kept).toContain(`${first?.id}_student`);
    expect(kept.some((t) => t.endsWith('_solution'))).toBe(false);
    for (const later of plan.later) expect(kept).not.toContain(`${later.id}_student`);
    expect(parseGyp(stripSolutionTargets(gyp)).targets.some((t) => t.target_name.endsWith('_solution'))).toBe(false);
  });

  test('student targets build with warnings, the references with -Werror', () => {
    for (const t of parseGyp(gyp).targets as Array<{ target_name: string; 'cflags_cc!'?: string[] }>) {
      if (t.target_name.endsWith('_student')) expect(t['cflags_cc!'], t.target_name).toContain('-Werror');
      if (t.target_name.endsWith('_solution')) expect(t['cflags_cc!'] ?? [], t.target_name).not.toContain('-Werror');
    }
  });

  test('what a later phase hands out is not in an earlier release', () => {
    const plan = releasePlan(first?.id);
    for (const later of plan.later) {
      expect(plan.includes(`${later.dir}/README.md`)).toBe(false);
      for (const given of later.given ?? []) expect(plan.includes(given)).toBe(false);
    }
    expect(plan.includes('solutions/phase1-shm/src/shm_store.cc')).toBe(false);
    expect(plan.includes('tools/bench/phases/phase9.ts')).toBe(false);
    expect(plan.includes('docs/img/phase2-free-list.svg')).toBe(true);
  });

  test('links into a phase not handed out become text', () => {
    const later = releasePlan(first?.id).later;
    if (later[0] === undefined) return;
    const md = `See [phase 2](../${later[0].dir}/README.md) and [the guide](debugging.md).\n<a href="../${later[0].dir}/README.md"><strong>P2</strong></a>`;
    expect(unlinkLaterPhases(md, later)).toBe('See phase 2 and [the guide](debugging.md).\n<span class="later"><strong>P2</strong></span>');
  });

  test('links to a page a later phase brings become text; the same name elsewhere stays a link', () => {
    const plan = releasePlan(first?.id);
    const page = plan.later.flatMap((p) => p.arrives ?? []).find((f) => f.startsWith('docs/') && f.endsWith('.md'));
    if (page === undefined) return;
    const name = page.slice('docs/'.length);
    const md = `[the runtime](${name}#intro) and <a href="${name}"><strong>R</strong></a>, [setup](getting-started.md)`;
    expect(plan.includes(page)).toBe(false);
    expect(unlinkLaterPhases(md, plan.later, 'docs/index.md')).toBe(`the runtime and <span class="later"><strong>R</strong></span>, [setup](getting-started.md)`);
    // From a page in another folder the same relative name is a different file.
    expect(unlinkLaterPhases(md, plan.later, 'phase1-shm/README.md')).toBe(md);
  });

  test('the README speaks to students: no solutions, no instructor commands', () => {
    const readme = studentReadme(COURSE_PHASES.slice(0, 1), undefined);
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm run stress -- phase1');
    expect(readme).not.toMatch(/solutions\/|test:solution|course --|instructor/);
  });
});
