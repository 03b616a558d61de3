// What testkit/grade-reporter.ts writes while vitest runs, one JSON object per line, to the file named
// by MINIRAY_GRADE_EVENTS. Line by line, so that a run killed by the grader's watchdog still leaves
// behind every result it reached, and which test was running when it hung.

export interface GradedMeta {
  readonly phase: string;
  readonly item: string; // checklist item id, e.g. '1.2'
  readonly title: string;
  readonly weight: number; // the test's share of its item's points, relative to the item's other tests
}

export interface CollectedTest {
  readonly name: string; // the test's own name, e.g. '[1.2] a lock held by ...'
  readonly fullName: string; // suites and name joined with ' > '
  readonly graded: GradedMeta | undefined;
  readonly timeoutMs: number | undefined;
}

export type TestState = 'passed' | 'failed' | 'skipped' | 'pending';

export type GradeEvent =
  | { readonly type: 'start'; readonly at: number; readonly files: readonly string[] }
  | { readonly type: 'collected'; readonly at: number; readonly file: string; readonly tests: readonly CollectedTest[] }
  | { readonly type: 'ready'; readonly at: number; readonly file: string; readonly fullName: string; readonly timeoutMs: number | undefined }
  | {
      readonly type: 'result';
      readonly at: number;
      readonly file: string;
      readonly test: CollectedTest;
      readonly state: TestState;
      readonly errors: readonly string[];
      readonly durationMs: number | undefined;
      // Failed by the watchdog: the test its process died in (culprit), or one lost with it.
      readonly killed?: { readonly kind: 'crash' | 'hang'; readonly culprit: boolean; readonly signal: string | null };
    }
  | { readonly type: 'module-end'; readonly at: number; readonly file: string; readonly errors: readonly string[] }
  // A test process the watchdog saw die: in which file and test, and what happened, in words.
  | { readonly type: 'killed'; readonly at: number; readonly file: string | undefined; readonly test: string | undefined; readonly kind: 'crash' | 'hang'; readonly message: string }
  | { readonly type: 'end'; readonly at: number; readonly reason: string; readonly unhandled: readonly string[] };

export const GRADE_EVENTS_ENV = 'MINIRAY_GRADE_EVENTS';
