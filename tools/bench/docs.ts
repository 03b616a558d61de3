// --update-docs: writes the latest report into the README and the lessons, so that no figure in
// them is typed by hand.
//
//   <!-- bench:begin [baseline phase2 ...] -->  ...  <!-- bench:end -->
//       the table of rows (of the phases named; all when none), the steps of a get and the ratios
//   <!-- bench:begin demo -->  ...  <!-- bench:end -->
//       the demo's table: each job in one process, on mini-Ray and over Node IPC, and the ratios
//   <!-- bench:fig KEY -->...<!-- /bench -->
//       one figure in running text; KEY is one of
//         row:PHASE:OP:BYTES          "272 ns (265-281)": the median and the lowest-highest round
//         ratio:PHASE:NAME:BYTES      "6.1x (5.8-6.4x)"
//         verdict:PHASE:NAME:BYTES    "met", "not met" or "unstable"
//         step:PHASE:STEP             "24 ns (22-27)"
//       (PHASE is baseline for the baselines' rows; BYTES is 0 for rows without a size)
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { REPO_ROOT } from '../../lib/phases.js';
import { fmtNsSpread, fmtRatio, fmtRunSpread, renderDemoMarkdown, renderMarkdown, type Report, type RowPhase } from './report.js';

export const DOC_FILES = ['README.md', 'phase1-shm/README.md', 'phase2-objects/README.md', 'phase3-scheduler/README.md', 'phase4-optimize/README.md', 'docs/putting-it-together.md'];
const BLOCK = /<!-- bench:begin([^>]*?)-->[\s\S]*?<!-- bench:end -->/g;
const FIG = /<!-- bench:fig ([^ ]+) -->[\s\S]*?<!-- \/bench -->/g;

// The text for one figure key, or undefined when the report has no such number.
export function figure(report: Report, key: string): string | undefined {
  const [kind, phase, a, b] = key.split(':');
  if (kind === 'row') {
    const r = report.rows.find((x) => x.phase === phase && x.op === a && x.bytes === Number(b));
    if (r === undefined) return undefined;
    return phase === 'demo' ? fmtRunSpread(r.median_ns, r.min_ns, r.max_ns) : fmtNsSpread(r.median_ns, r.min_ns, r.max_ns);
  }
  if (kind === 'ratio' || kind === 'verdict') {
    const r = report.ratios.find((x) => x.phase === phase && x.name === a && x.bytes === Number(b));
    if (r === undefined) return undefined;
    return kind === 'ratio' ? fmtRatio(r) : { pass: 'met', fail: 'not met', unstable: 'unstable' }[r.verdict];
  }
  if (kind === 'step') {
    const s = report.steps.find((x) => x.phase === phase && x.step === a);
    return s === undefined ? undefined : fmtNsSpread(s.median, s.min, s.max);
  }
  return undefined;
}

// Rewrites `text`; returns it with the list of keys the report could not fill (left as they were).
export function renderDoc(report: Report, text: string): { text: string; missing: string[]; blocks: number; figures: number } {
  const missing: string[] = [];
  let blocks = 0;
  let figures = 0;
  const withBlocks = text.replace(BLOCK, (all, spec: string) => {
    if (spec.trim() === 'demo' && report.demo === undefined) {
      missing.push('demo table');
      return all; // a run without the demo leaves its table as it was
    }
    const phases = spec.trim() === '' ? undefined : (spec.trim().split(/\s+/) as RowPhase[]);
    // A run that measured none of the block's phases (e.g. `npm run bench -- demo`) leaves it too.
    const measured = report.rows.some((r) => r.phase !== 'baseline' && r.phase !== 'demo' && (phases === undefined || phases.includes(r.phase)));
    if (spec.trim() !== 'demo' && !measured) {
      missing.push(`table of ${spec.trim() === '' ? 'every phase' : spec.trim()}`);
      return all;
    }
    blocks += 1;
    // 'demo' alone: the demo's own table (one line per job, one column per way).
    const table = spec.trim() === 'demo' ? renderDemoMarkdown(report) : renderMarkdown(report, phases);
    return `<!-- bench:begin${spec.trimEnd()} -->\n${table}\n<!-- bench:end -->`;
  });
  const out = withBlocks.replace(FIG, (all, key: string) => {
    const value = figure(report, key);
    if (value === undefined) {
      missing.push(key);
      return all;
    }
    figures += 1;
    return `<!-- bench:fig ${key} -->${value}<!-- /bench -->`;
  });
  return { text: out, missing, blocks, figures };
}

export function updateDocs(report: Report, files: readonly string[] = DOC_FILES): string[] {
  const out: string[] = [];
  for (const rel of files) {
    const file = join(REPO_ROOT, rel);
    if (!existsSync(file)) continue;
    const before = readFileSync(file, 'utf8');
    const { text, missing, blocks, figures } = renderDoc(report, before);
    if (blocks + figures === 0) continue;
    if (text !== before) writeFileSync(file, text);
    out.push(`docs: ${rel}: ${blocks} table(s), ${figures} figure(s) from this report`);
    if (missing.length > 0) out.push(`docs: ${rel}: not in this report, left as they were: ${missing.join(', ')}`);
  }
  return out;
}
