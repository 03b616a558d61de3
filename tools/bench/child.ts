// The second process of `npm run bench` (forked by procs.ts, never run by hand).
//
//   child.ts echo     sends every message straight back: the other end of the IPC round trip
//   child.ts meters   opens a segment (an 'open' request), then measures its meters on request,
//                     one 'measure' per meter and round, until 'close'
//   child.ts serve    runs a phase's serve() on an 'open' request (phase 3: a worker) and answers
//                     when it returns
import { isMiniRayError } from '../../lib/errors.js';
import type { ChildOpenRequest, ChildReply, ChildRequest, MeterSet } from './context.js';
import { loadBenchNative } from './native.js';
import { PHASE_BENCHES } from './phases/index.js';

const mode = process.argv[2];
const send = (message: unknown): void => {
  process.send?.(message);
};

// The parent went away (Ctrl-C, a crash): never linger.
process.on('disconnect', () => process.exit(0));

const errorReply = (e: unknown): ChildReply => {
  const message = e instanceof Error ? e.message : String(e);
  return isMiniRayError(e) ? { kind: 'error', message, code: e.code } : { kind: 'error', message };
};

async function bench(req: ChildOpenRequest) {
  const load = PHASE_BENCHES[req.phase];
  if (load === undefined) throw new Error(`no benchmark for ${req.phase}`);
  return load();
}

let session: MeterSet | undefined;

async function handle(req: ChildRequest): Promise<ChildReply> {
  try {
    if (req.kind === 'open' && mode === 'serve') {
      const b = await bench(req);
      if (b.serve === undefined) throw new Error(`${req.phase}'s benchmark serves nothing`);
      await b.serve(req);
      return { kind: 'closed' };
    }
    if (req.kind === 'open') {
      const b = await bench(req);
      if (b.childMeters === undefined) throw new Error(`${req.phase}'s benchmark has no second-process rows`);
      session = await b.childMeters(req, loadBenchNative(true));
      return { kind: 'opened', meters: session.meters.map((m) => ({ op: m.op, bytes: m.bytes })) };
    }
    if (req.kind === 'measure') {
      const m = session?.meters[req.index];
      if (m === undefined) throw new Error(`no meter ${req.index}`);
      return { kind: 'stats', stats: await m.measure(req.budget) };
    }
    await session?.close();
    session = undefined;
    return { kind: 'closed' };
  } catch (e) {
    return errorReply(e);
  }
}

if (mode === 'echo') {
  process.on('message', (message) => send(message));
  send('ready');
} else if (mode === 'meters' || mode === 'serve') {
  process.on('message', (message) => {
    void handle(message as ChildRequest).then(send);
  });
  send('ready');
} else {
  console.error(`child.ts: unknown mode ${mode ?? '(none)'}`);
  process.exit(2);
}
