// A phase the runtime stands on that is unfinished or broken fails with a message naming it:
//   mini-Ray needs phase 3 (the scheduler): not implemented: phase3 Scheduler::Init ...
import { MiniRayError } from '../lib/errors.js';
import { hasSolutions } from '../lib/phases.js';

export type RuntimePhase = 'phase 2' | 'phase 3';

const ROLE: Record<RuntimePhase, string> = { 'phase 2': 'the object store', 'phase 3': 'the scheduler' };

const PREFIX = 'mini-Ray needs ';

export function namePhase(phase: RuntimePhase, e: unknown): unknown {
  if (!(e instanceof MiniRayError) || e.message.startsWith(PREFIX)) return e;
  const needs = `${PREFIX}${phase} (${ROLE[phase]})`;
  const test = `npm test -- ${phase.replace(' ', '')}`;
  if (e.code === 'ERR_NOT_IMPLEMENTED') {
    const hint = hasSolutions() ? '; npm run demo -- --solution runs it on the references' : '';
    return new MiniRayError(e.code, `${needs}: ${e.message} (finish it first: ${test}${hint})`);
  }
  if (e.code === 'ERR_BUILD_FAILED') return new MiniRayError(e.code, `${needs}, which cannot be loaded: ${e.message}`);
  return e;
}

// Runs `fn`, renaming its error as above.
export function inPhase<T>(phase: RuntimePhase, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw namePhase(phase, e);
  }
}

export async function inPhaseAsync<T>(phase: RuntimePhase, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw namePhase(phase, e);
  }
}

// Errors after which a worker cannot go on: the student's phase is missing something.
export function isFatal(e: unknown): boolean {
  return e instanceof MiniRayError && (e.code === 'ERR_NOT_IMPLEMENTED' || e.code === 'ERR_BUILD_FAILED');
}
