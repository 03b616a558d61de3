// npm run docs: builds the site and serves it on http://127.0.0.1:4173/ (PORT=... to change; the next
// free port is taken when that one is busy). Problems in the sources are printed, and the site is
// served anyway, so a student can always read the lessons.
import { buildSite, DIST_DIR } from './site.js';
import { printProblems } from './build.js';
import { startServer, type RunningServer } from './server.js';

async function listen(first: number): Promise<RunningServer> {
  for (let port = first; port < first + 20; port++) {
    try {
      return await startServer(DIST_DIR, port);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    }
  }
  return startServer(DIST_DIR, 0);
}

async function main(): Promise<void> {
  const result = buildSite(DIST_DIR);
  if (result.problems.length > 0) {
    printProblems(result.problems);
    console.error(`docs: ${result.problems.length} problem(s) in the sources (see above); serving the site anyway`);
  }
  const server = await listen(Number(process.env.PORT ?? 4173));
  console.log(`\n  Mini-Ray course site: ${server.url}\n\n  (Ctrl-C to stop)\n`);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

void main();
