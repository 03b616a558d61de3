// The phases that have a benchmark, loaded lazily so one phase's missing harness never stops another.
import type { PhaseId } from '../../../lib/phases.js';
import type { PhaseBench } from '../context.js';

export const PHASE_BENCHES: Partial<Record<PhaseId, () => Promise<PhaseBench>>> = {
  phase1: async () => (await import('./phase1.js')).phase1Bench,
  phase2: async () => (await import('./phase2.js')).phase2Bench,
  phase3: async () => (await import('./phase3.js')).phase3Bench,
};
