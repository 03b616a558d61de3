// What testkit/grade-reporter.ts writes while vitest runs, one JSON object per line, to the file named
// by MINIRAY_GRADE_EVENTS. Line by line, so that a run killed by the grader's watchdog still leaves
// behind every result it reached, and which test was running when it hung.

export interface GradedMeta {
  readonly phase: string;
  readonly item: string; // checklist item id, e.g. '1.2'
  readonly title: string;
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
    }
  | { readonly type: 'module-end'; readonly at: number; readonly file: string; readonly errors: readonly string[] }
  | { readonly type: 'end'; readonly at: number; readonly reason: string; readonly unhandled: readonly string[] };

export const GRADE_EVENTS_ENV = 'MINIRAY_GRADE_EVENTS';
