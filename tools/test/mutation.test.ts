// The mutation tool's own tests: what the operators derive from C++ source, that every derived
// patch applies to the reference it came from, that ids and samples stay put while unrelated code
// changes, and how EQUIVALENT.md is read.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { describe, expect, test } from 'vitest';

import { PHASES, REPO_ROOT } from '../../lib/phases.js';
import { readEquivalent } from '../grading/mutation/equivalent.js';
import { mutantsOf, selectMutants } from '../grading/mutation/operators.js';

const SAMPLE = `// a comment with a < b and x == y
#include <vector>
#define LIMIT(a) ((a) > 3)
namespace n {
int f(int a, int b, std::vector<int>& v) {
  const char* s = "a < b || c";
  if (a < b && b != 0) throw Error(1, "bad");
  if (a > 2) return 1;
  v.push_back(a + 1);
  std::lock_guard<std::mutex> guard(m);
  return a >= b ? 0x10 : 0600;
}
}  // namespace n
`;

describe('derived mutants', () => {
  const mutants = mutantsOf('p/src/f.cc', SAMPLE);
  const lines = (op: string): number[] => mutants.filter((m) => m.operator === op).map((m) => m.line);

  test('comments, string literals and preprocessor lines are never mutated', () => {
    for (const m of mutants) expect([1, 2, 3, 6], `${m.operator} ${m.description}`).not.toContain(m.line);
  });

  test('each operator finds its sites: boundaries, checks, calls, guards, octal and hex constants', () => {
    expect(lines('relational')).toEqual([7, 7, 8, 11]);
    expect(lines('check-removed')).toEqual([7]);
    expect(lines('condition-dropped')).toEqual([7, 7]);
    expect(lines('call-removed')).toEqual([9]);
    expect(lines('lock-removed')).toEqual([10]);
    const constants = mutants.filter((m) => m.operator === 'constant').map((m) => m.description);
    expect(constants).toContain('0600 -> 0601');
    expect(constants).toContain('0x10 -> 0xf');
  });

  test('a statement that is the whole body of a brace-less if is not removed', () => {
    expect(mutants.some((m) => m.operator === 'call-removed' && m.line === 8)).toBe(false);
  });

  test('ids are unique and do not move when unrelated lines are added', () => {
    expect(new Set(mutants.map((m) => m.id)).size).toBe(mutants.length);
    const shifted = mutantsOf('p/src/f.cc', `// one more line on top\n${SAMPLE}`);
    expect(shifted.map((m) => m.id)).toEqual(mutants.map((m) => m.id));
  });

  test('a sample is deterministic, and a mutant keeps its place while others come and go', () => {
    const a = selectMutants(mutants, 7, 5).map((m) => m.id);
    expect(selectMutants(mutants, 7, 5).map((m) => m.id)).toEqual(a);
    expect(selectMutants(mutants, 8, 5).map((m) => m.id)).not.toEqual(a);
    const fewer = mutants.filter((m) => m.id !== a[4]);
    expect(selectMutants(fewer, 7, 4).map((m) => m.id)).toEqual(a.slice(0, 4));
  });
});

describe("the references' mutants", () => {
  for (const phase of PHASES) {
    test(`every ${phase.id} mutant's patch applies to the reference and gives its content`, () => {
      const work = mkdtempSync(join(tmpdir(), 'miniray-mutation-test-'));
      try {
        for (const rel of phase.studentFiles) {
          const reference = readFileSync(join(REPO_ROOT, 'solutions', rel), 'utf8');
          const all = mutantsOf(rel, reference);
          // A source file has plenty to mutate; a header may be declarations only.
          if (rel.endsWith('.cc')) expect(all.length, `${rel} yields mutants`).toBeGreaterThan(20);
          for (const m of all) {
            mkdirSync(dirname(join(work, rel)), { recursive: true });
            writeFileSync(join(work, rel), reference);
            writeFileSync(join(work, 'm.patch'), m.patch);
            const r = spawnSync('git', ['apply', 'm.patch'], { cwd: work, encoding: 'utf8' });
            expect(r.status, `${m.id} (${m.description}): ${r.stderr}`).toBe(0);
            expect(readFileSync(join(work, rel), 'utf8') === m.content, `${m.id} (${m.description})`).toBe(true);
          }
        }
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });
  }
});

describe('EQUIVALENT.md', () => {
  test('headings name one or more ids, the text under them is the reason, and a repeated id is a problem', () => {
    const root = mkdtempSync(join(tmpdir(), 'miniray-equivalent-test-'));
    const phase = PHASES[0]!;
    try {
      mkdirSync(join(root, 'solutions', 'mutants', phase.id), { recursive: true });
      writeFileSync(
        join(root, 'solutions', 'mutants', phase.id, 'EQUIVALENT.md'),
        '# title\n\n## Same behaviour\n\n### m0000000a, `m0000000b`: zero over zero\nThe segment is zero-filled.\n\n### m0000000a: again\nx\n',
      );
      const { entries, problems } = readEquivalent(phase, root);
      expect(entries.map((e) => e.ids)).toEqual([['m0000000a', 'm0000000b'], ['m0000000a']]);
      expect(entries[0]?.reason).toContain('zero-filled');
      expect(problems.join('\n')).toContain('m0000000a is listed twice');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
