// npm run submit -- phase2: packs the phase's student-editable files (lib/phases.ts, studentFiles)
// and a manifest.json into submission-phase2.tgz, the only thing the grader takes from you.
//
//   npm run submit -- phase1 [phase2 ...] [--out FILE]
//   npm run grade -- --submission submission-phase1.tgz    grades it as the instructor will
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';

import { PHASES, REPO_ROOT, type PhaseId } from '../lib/phases.js';
import { readBuildStatus } from '../lib/native.js';
import { sha256, shippedSkeletonHash } from './grading/release.js';
import { SUBMISSION_FORMAT, type SubmissionManifest } from './grading/submission.js';

function main(argv: readonly string[]): number {
  const ids = argv.filter((a) => /^phase\d$/.test(a)) as PhaseId[];
  const outIdx = argv.indexOf('--out');
  const unknown = argv.filter((a, i) => !/^phase\d$/.test(a) && a !== '--out' && i !== outIdx + 1);
  if (ids.length === 0 || unknown.length > 0 || (outIdx >= 0 && argv[outIdx + 1] === undefined)) {
    console.error('usage: npm run submit -- phaseN [phaseM ...] [--out FILE]');
    return 2;
  }
  for (const id of ids) {
    if (!PHASES.some((p) => p.id === id)) {
      console.error(`unknown phase ${id} (known: ${PHASES.map((p) => p.id).join(', ')})`);
      return 2;
    }
  }
  const phases = PHASES.filter((p) => ids.includes(p.id));
  const out = resolve(
    process.env.INIT_CWD ?? process.cwd(),
    outIdx >= 0 ? (argv[outIdx + 1] ?? '') : join(REPO_ROOT, `submission-${phases.map((p) => p.id).join('-')}.tgz`),
  );
  const stage = mkdtempSync(join(tmpdir(), 'miniray-submit-'));
  try {
    const files: Array<{ path: string; bytes: number; sha256: string }> = [];
    for (const phase of phases) {
      for (const rel of phase.studentFiles) {
        const src = join(REPO_ROOT, rel);
        if (!existsSync(src)) {
          console.error(`missing ${rel}: a submission needs every student file of ${phase.id}`);
          return 1;
        }
        const content = readFileSync(src);
        mkdirSync(dirname(join(stage, rel)), { recursive: true });
        writeFileSync(join(stage, rel), content);
        files.push({ path: rel, bytes: content.length, sha256: sha256(content) });
        // Compared with the skeleton as shipped (not git HEAD: a student who commits has a HEAD of their own).
        const untouched = shippedSkeletonHash(REPO_ROOT, rel) === sha256(content);
        console.log(`  ${rel}  ${content.length} bytes${untouched ? '  (unchanged from the skeleton)' : ''}`);
      }
      const status = readBuildStatus(`${phase.id}_student`);
      if (status !== undefined && !status.ok) {
        console.log(`  warning: ${phase.id} did not compile at the last build: ${status.diagnostics[0] ?? ''}`);
      }
    }
    const manifest: SubmissionManifest = {
      format: SUBMISSION_FORMAT,
      phases: phases.map((p) => p.id),
      files,
      createdAt: new Date().toISOString(),
    };
    writeFileSync(join(stage, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    mkdirSync(dirname(out), { recursive: true });
    const r = spawnSync('tar', ['-czf', out, '-C', stage, 'manifest.json', ...files.map((f) => f.path)], { encoding: 'utf8' });
    if (r.status !== 0) {
      console.error(`tar failed: ${r.stderr}`);
      return 1;
    }
    const shown = relative(process.env.INIT_CWD ?? process.cwd(), out);
    console.log(`wrote ${shown.startsWith('..') ? out : shown}: ${files.length} files of ${phases.map((p) => p.id).join(', ')}`);
    console.log(`check it as the grader will: npm run grade -- --submission ${shown.startsWith('..') ? out : shown}`);
    return 0;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

process.exitCode = main(process.argv.slice(2));
