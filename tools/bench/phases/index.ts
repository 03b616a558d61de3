// The phases that have a benchmark (tools/bench/phases/<phase>.ts, exporting <phase>Bench), loaded
// lazily so one phase's missing harness never stops another. The module names are computed, so a
// student release without a later phase (nor its bench file) still typechecks.
import { existsSync } from 'node:fs';

import { PHASES, type PhaseId } from '../../../lib/phases.js';
import type { PhaseBench } from '../context.js';

const here = new URL('.', import.meta.url);

export const PHASE_BENCHES: Partial<Record<PhaseId, () => Promise<PhaseBench>>> = Object.fromEntries(
  PHASES.filter((p) => existsSync(new URL(`${p.id}.ts`, here))).map((p) => [
    p.id,
    async (): Promise<PhaseBench> => {
      const mod = (await import(new URL(`${p.id}.js`, here).href)) as Record<string, PhaseBench | undefined>;
      const bench = mod[`${p.id}Bench`];
      if (bench === undefined) throw new Error(`tools/bench/phases/${p.id}.ts exports no ${p.id}Bench`);
      return bench;
    },
  ]),
);
