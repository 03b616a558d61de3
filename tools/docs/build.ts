// npm run docs:build: renders the lessons and docs/*.md into docs/dist/, and fails (exit 1) on a broken
// link, a missing file, script or test named in a lesson, or an unknown admonition or code language.
import { relative } from 'node:path';
import { pathToFileURL } from 'node:url';

import { REPO_ROOT } from '../../lib/phases.js';
import type { Problem } from './checks.js';
import { buildSite, DIST_DIR } from './site.js';

export function printProblems(problems: readonly Problem[], stream: NodeJS.WriteStream = process.stderr): void {
  for (const p of problems) stream.write(`${p.file}:${p.line}: ${p.message}\n`);
}

function main(): number {
  const t0 = Date.now();
  const result = buildSite(DIST_DIR);
  const pages = result.pages.filter((p) => p.kind === 'page').length;
  const sources = result.pages.length - pages;
  const where = relative(REPO_ROOT, result.outDir);
  if (result.problems.length > 0) {
    printProblems(result.problems);
    console.error(`docs: ${result.problems.length} problem(s) in the sources; the site in ${where}/ is incomplete`);
    return 1;
  }
  console.log(`docs: ${pages} pages and ${sources} source views written to ${where}/ in ${Date.now() - t0} ms`);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = main();
}
