// The watchdog's reporters. vitest leaves the tests of a test process that died without a result
// ("Tests 10 passed (16)"); the marker turns them into failures that say why, so they count:
// the test that was running when its process crashed or hung, and every test after it that never
// ran. It must come before the reporters that print or record results. The summary, placed last,
// ends the output with one line per process the watchdog saw die.
//
//   reporters: [new WatchdogMarker(), 'default', new WatchdogSummary()]   (vitest.config.ts)
//   --reporter testkit/watchdog/reporter.ts                               (the marker alone)
import type { Reporter, TestModule, Vitest } from 'vitest/node';

import { describeKill, killRecords, type KillRecord } from './pool.js';

declare module 'vitest' {
  interface TaskMeta {
    // Set on a test the watchdog failed: the one that was running (culprit) or one never run.
    watchdog?: { kind: 'crash' | 'hang'; culprit: boolean; signal: string | null };
  }
}

type Pack = Parameters<Vitest['state']['updateTasks']>[0][number];
type TestError = NonNullable<NonNullable<Pack[1]>['errors']>[number];

function lostMessage(r: KillRecord, before: boolean): string {
  const what = r.kind === 'hang' ? 'hung' : r.signal !== null ? `was killed by ${r.signal}` : `exited with code ${r.code}`;
  const during = r.test === undefined ? '' : ` while running '${r.test}'`;
  return before
    ? `no result: the test process ${what}${during}, and this test's result was lost with it; it counts as failed.`
    : `not run: the test process ${what}${during}, before this test could start; it counts as failed.`;
}

export default class WatchdogMarker implements Reporter {
  private vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunStart(): void {
    killRecords().length = 0;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const records = killRecords();
    if (this.vitest === undefined || records.length === 0) return;
    const packs: Pack[] = [];
    for (const r of records) {
      for (const m of modules.filter((x) => r.files.includes(x.moduleId))) {
        // The file failed, whatever vitest had heard from it.
        packs.push([m.id, { state: 'fail' }, m.meta()]);
        const tests = [...m.children.allTests()];
        const culpritAt = tests.findIndex((t) => t.id === r.taskId);
        tests.forEach((t, i) => {
          if (t.result().state !== 'pending') return;
          const kept = r.finished.find((f) => f.taskId === t.id);
          if (kept !== undefined) {
            // It finished before the process died; vitest had not heard of it yet.
            packs.push([t.id, { state: kept.state, errors: kept.errors as TestError[], ...(kept.durationMs === undefined ? {} : { duration: kept.durationMs }) }, t.meta()]);
            return;
          }
          const culprit = i === culpritAt;
          const message = culprit ? describeKill(r) : lostMessage(r, culpritAt >= 0 && i < culpritAt);
          packs.push([
            t.id,
            { state: 'fail', errors: [{ name: 'Error', message, stacks: [] }] },
            { ...t.meta(), watchdog: { kind: r.kind, culprit, signal: r.signal } },
          ]);
        });
      }
    }
    this.vitest.state.updateTasks(packs);
  }
}

export class WatchdogSummary implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const records = killRecords();
    if (records.length === 0) return;
    const lines = [
      '',
      `The watchdog: ${records.length} test process${records.length === 1 ? '' : 'es'} did not finish (vitest's "Worker exited unexpectedly" above).`,
    ];
    for (const r of records) {
      const lost = modules
        .filter((m) => r.files.includes(m.moduleId))
        .flatMap((m) => [...m.children.allTests()])
        .filter((t) => t.meta().watchdog !== undefined && t.meta().watchdog?.culprit !== true).length;
      lines.push(`  ✗ ${describeKill(r)}`);
      if (lost > 0) lines.push(`    ${lost} other test${lost === 1 ? '' : 's'} of the file did not run; ${lost === 1 ? 'it counts' : 'they count'} as failed.`);
    }
    lines.push('');
    process.stderr.write(`${lines.join('\n')}\n`);
  }
}
