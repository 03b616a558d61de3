// --update-docs: replaces the block between <!-- bench:begin --> and <!-- bench:end --> markers.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { REPO_ROOT } from '../../lib/phases.js';
import { renderMarkdown, type Report } from './report.js';

export const DOC_FILES = ['README.md', 'phase2-objects/README.md', 'phase3-scheduler/README.md'];
const BEGIN = '<!-- bench:begin -->';
const END = '<!-- bench:end -->';

export function updateDocs(report: Report, files: readonly string[] = DOC_FILES): string[] {
  const out: string[] = [];
  const block = `${BEGIN}\n${renderMarkdown(report)}\n${END}`;
  for (const rel of files) {
    const file = join(REPO_ROOT, rel);
    if (!existsSync(file)) {
      out.push(`docs: ${rel} does not exist, skipped`);
      continue;
    }
    const text = readFileSync(file, 'utf8');
    const a = text.indexOf(BEGIN);
    const b = text.indexOf(END, a);
    if (a < 0 || b < 0) {
      out.push(`docs: ${rel} has no ${BEGIN} ... ${END} markers, skipped`);
      continue;
    }
    writeFileSync(file, text.slice(0, a) + block + text.slice(b + END.length));
    out.push(`docs: updated the benchmark table in ${rel}`);
  }
  return out;
}
