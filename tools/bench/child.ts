// The second process of `npm run bench` (forked by main.ts, never run by hand).
//
//   child.ts echo   sends every message straight back: the other end of the IPC round trip
//   child.ts get    receives a ChildGetRequest, opens the segment, times get, replies with rows
import { isMiniRayError } from '../../lib/errors.js';
import type { ChildGetRequest, ChildReply } from './context.js';
import { PHASE_BENCHES } from './phases/index.js';

const mode = process.argv[2];
const send = (message: unknown): void => {
  process.send?.(message);
};

// The parent went away (Ctrl-C, a crash): never linger.
process.on('disconnect', () => process.exit(0));

if (mode === 'echo') {
  process.on('message', (message) => send(message));
  send('ready');
} else if (mode === 'get') {
  process.on('message', (message) => {
    void handle(message as ChildGetRequest).then((reply) => {
      send(reply);
    });
  });
  send('ready');
} else {
  console.error(`child.ts: unknown mode ${mode ?? '(none)'}`);
  process.exit(2);
}

async function handle(req: ChildGetRequest): Promise<ChildReply> {
  try {
    const load = PHASE_BENCHES[req.phase];
    if (load === undefined) throw new Error(`no benchmark for ${req.phase}`);
    const bench = await load();
    return { kind: 'rows', rows: await bench.childGet(req) };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return isMiniRayError(e) ? { kind: 'error', message, code: e.code } : { kind: 'error', message };
  }
}
