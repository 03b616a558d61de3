// The top-level README.md of a student release: what the course is, the phases handed out so far,
// and the commands a student types. Written from the phase registry, so a new phase needs nothing here.
import type { PhaseInfo } from '../../lib/phases.js';

const code = (s: string): string => `\`${s}\``;

// What native-common hands out from a later phase on, e.g. "; from phase2 on, futex.cc, ...".
function given(phases: readonly PhaseInfo[]): string {
  return phases
    .filter((p) => (p.given ?? []).length > 0)
    .map((p) => `;\n${''.padEnd(19)}from ${p.id} on also ${(p.given ?? []).map((f) => f.split('/').at(-1)).join(', ')}`)
    .join('');
}

export function studentReadme(phases: readonly PhaseInfo[], bench: string | undefined): string {
  const first = phases[0];
  const id = first?.id ?? 'phase1';
  const rows = phases.map((p, i) => `| ${i + 1} | ${p.title} | [${p.dir}/README.md](${p.dir}/README.md) |`);
  const yours = phases.map((p) => `   - ${p.id}: ${p.studentFiles.map(code).join(', ')}`);
  return `# Mini-Ray: build Ray's Plasma object store from shared memory up

\`\`\`sh
npm install && npm start          # build your code, see your progress and the next thing to write
\`\`\`

Ray moves large objects between the processes of one machine without copying them: a *Plasma*
object store keeps them in POSIX shared memory, and every worker maps the same pages. In this
course you build that store yourself, in C++ driven from TypeScript, one phase at a time, and
several real Node processes at once attack your code in every test: they race, get \`SIGKILL\`ed
while holding your lock, and check that nothing was lost.

| phase | you build | lesson |
|---|---|---|
${rows.join('\n')}

The next phases arrive in this folder as the course reaches them; the files you edited stay as they are.

Requirements: Linux (POSIX shared memory, futexes, robust mutexes), Node.js 20.17 or newer, a C++20
compiler (g++ 12), python3 and make. Nothing else is downloaded: addons build against the headers of
the Node.js you run.

## How you work

1. \`npm install\`, then \`npm start\`: it builds your code and shows, per phase and checklist item,
   what passes and how many points it is worth, then the next function to write with a hint.
2. Read the phase's lesson (\`npm run docs\` serves every lesson as a site on localhost).
3. Edit only the files the lesson names; every unfinished function throws \`not implemented: ...\`:
${yours.join('\n')}
4. \`npm test -- ${id}\` builds what changed and runs that phase's tests. A compile error is shown as
   \`file:line: message\` (warnings are shown too, and do not stop the tests). A test that hangs or
   crashes is stopped and named, with the signal, and the other tests go on.
5. Before you hand in, \`npm run stress -- ${id}\` runs the phase's tests many times over and reports
   how often each one failed: a concurrency bug that fails one run in ten is still a bug.
6. \`npm run grade -- ${id}\` scores your code the way the course does (a points table and
   \`grade-report.json\`); \`npm run submit -- ${id}\` packs the files you hand in.
7. \`npm run bench\` measures your store against \`memcpy\` and Node's own IPC.
8. When something is stuck: \`npm run miniray -- ls\` lists segments and who maps them,
   \`npm run miniray -- dump /name\` shows a header, \`npm run miniray -- clean\` removes leftovers.

\`npm run verify\` checks your installation: the TypeScript typechecks, your code compiles, the
lesson site builds and renders.

## Layout

\`\`\`
native-common/     C++ every phase uses: object ids, typed errors, N-API helpers${given(phases)}
${phases
  .map((p, i) =>
    i === 0
      ? `${`${p.dir}/`.padEnd(19)}a phase: README.md (the lesson), src/ (yours), glue/ (given), index.ts\n${''.padEnd(19)}(the typed harness), checklist.ts (points), test/ (the tests)`
      : `${`${p.dir}/`.padEnd(19)}phase ${i + 1}, laid out the same way`,
  )
  .join('\n')}
lib/ testkit/      the TypeScript runtime the harnesses share, and the multi-process test kit
tools/             build, grade, submit, docs, bench and the \`miniray\` debugging tool
docs/              the site's own pages and diagrams
\`\`\`
${bench === undefined ? '' : `\n## Measured on the reference solution\n\nWhat a good solution reaches on one machine (\`npm run bench\` measures yours):\n\n${bench}\n`}`;
}
