// A vitest reporter for the grader and `npm start`: it writes every collected test (with the
// checklist item from graded()'s task.meta), every test start and every result to the JSONL file
// named by MINIRAY_GRADE_EVENTS, appending line by line (see grade-events.ts). It prints nothing.
//
//   MINIRAY_GRADE_EVENTS=/tmp/ev.jsonl vitest run --reporter=./testkit/grade-reporter.ts phase1
import { appendFileSync } from 'node:fs';
import { relative } from 'node:path';

import type { Reporter, TestCase, TestModule, TestSpecification, Vitest } from 'vitest/node';

import './graded.js'; // its TaskMeta augmentation: checklist, timeoutMs, weight
import './watchdog/reporter.js'; // its TaskMeta augmentation: watchdog
import { describeKill, killRecords } from './watchdog/pool.js';
import { GRADE_EVENTS_ENV, type CollectedTest, type GradeEvent } from './grade-events.js';
import { isAbbreviated, summariseDiff } from './mismatch.js';

type SerializedError = Parameters<NonNullable<Reporter['onTestRunEnd']>>[1][number];

const ANSI = /\u001b\[[0-9;]*m/g;
const MAX_ERROR_CHARS = 3000;

interface ErrorLike {
  readonly message?: unknown;
  readonly name?: unknown;
  readonly diff?: unknown;
  readonly stack?: unknown;
  readonly stacks?: ReadonlyArray<{ readonly file: string; readonly line: number }>;
}

export default class GradeReporter implements Reporter {
  private readonly out: string | undefined = process.env[GRADE_EVENTS_ENV];
  private root = process.cwd();
  private readonly reported = new Set<string>();

  onInit(vitest: Vitest): void {
    this.root = vitest.config.root;
  }

  private emit(event: GradeEvent): void {
    if (this.out === undefined || this.out === '') return;
    appendFileSync(this.out, `${JSON.stringify(event)}\n`);
  }

  private file(module: TestModule): string {
    return relative(this.root, module.moduleId).split('\\').join('/');
  }

  private describeError(e: ErrorLike): string {
    const name = typeof e.name === 'string' && e.name !== 'Error' && e.name !== 'AssertionError' ? `${e.name}: ` : '';
    let message = typeof e.message === 'string' ? e.message : String(e.message);
    // "expected [ …(100) ] to deeply equal []" says nothing: count and show the differences instead.
    const summary = typeof e.diff === 'string' && isAbbreviated(message) ? summariseDiff(e.diff.replace(ANSI, '')) : undefined;
    if (summary !== undefined) message = message.replace(/expected .*? to (deeply )?(strictly )?equal .*$/m, summary);
    let text = `${name}${message}`;
    const frames = e.stacks ?? [];
    const frame = frames.find((s) => /\.test\.ts$/.test(s.file)) ?? frames.find((s) => !s.file.includes('node_modules'));
    if (frame !== undefined) text += `\n    at ${relative(this.root, frame.file)}:${frame.line}`;
    if (typeof e.diff === 'string' && e.diff.trim() !== '') text += `\n${e.diff}`;
    text = text.replace(ANSI, '');
    return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}\n... (truncated)` : text;
  }

  private collected(test: TestCase): CollectedTest {
    const meta = test.meta();
    return {
      name: test.name,
      fullName: test.fullName,
      graded:
        meta.checklist === undefined
          ? undefined
          : { phase: meta.checklist.phase, item: meta.checklist.item, title: meta.checklist.title, weight: meta.weight ?? 1 },
      timeoutMs: meta.timeoutMs,
    };
  }

  onTestRunStart(specifications: ReadonlyArray<TestSpecification>): void {
    this.emit({
      type: 'start',
      at: Date.now(),
      files: specifications.map((s) => relative(this.root, s.moduleId).split('\\').join('/')),
    });
  }

  onTestModuleCollected(module: TestModule): void {
    const tests = [...module.children.allTests()].map((t) => this.collected(t));
    this.emit({ type: 'collected', at: Date.now(), file: this.file(module), tests });
  }

  onTestCaseReady(test: TestCase): void {
    this.emit({
      type: 'ready',
      at: Date.now(),
      file: this.file(test.module),
      fullName: test.fullName,
      timeoutMs: test.meta().timeoutMs,
    });
  }

  onTestCaseResult(test: TestCase): void {
    this.result(test);
  }

  private result(test: TestCase): void {
    const file = this.file(test.module);
    const key = `${file}::${test.fullName}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    const r = test.result();
    const killed = test.meta().watchdog;
    this.emit({
      type: 'result',
      at: Date.now(),
      file,
      test: this.collected(test),
      state: r.state,
      errors: (r.errors ?? []).map((e) => this.describeError(e)),
      durationMs: test.diagnostic()?.duration,
      ...(killed === undefined ? {} : { killed }),
    });
  }

  onTestModuleEnd(module: TestModule): void {
    for (const test of module.children.allTests()) this.result(test);
    this.emit({
      type: 'module-end',
      at: Date.now(),
      file: this.file(module),
      errors: module.errors().map((e) => this.describeError(e)),
    });
  }

  onTestRunEnd(
    modules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError>,
    reason: string,
  ): void {
    for (const module of modules) {
      for (const test of module.children.allTests()) this.result(test);
    }
    for (const r of killRecords()) {
      const file = r.file === undefined ? undefined : relative(this.root, r.file).split('\\').join('/');
      this.emit({ type: 'killed', at: Date.now(), file, test: r.test, kind: r.kind, message: describeKill(r) });
    }
    this.emit({
      type: 'end',
      at: Date.now(),
      reason,
      unhandled: unhandledErrors.map((e) => this.describeError(e)),
    });
  }
}
