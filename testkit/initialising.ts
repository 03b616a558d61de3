// Catching a creator in the middle of initialising its segment, to test what an opener does then.
//
// The creator, a child process, is stopped (SIGSTOP) as soon as the segment's file has its size:
// ftruncate is done, and the creator is reserving the pages (posix_fallocate of a large segment
// takes tens of milliseconds) or writing the header. Whether it was caught before create() returned
// is known, not guessed: a creator that finished had sent its 'created' event before it was stopped.
import { statSync } from 'node:fs';

import { SHM_DIR } from './segments.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// Stops `pid` once SHM_DIR/name has a size. Resolves true when `created` (the creator's 'created'
// event) had not arrived by then, i.e. the creator is stopped inside create(); false when it had
// already finished (then it is still stopped: SIGCONT or kill it). Rejects with the creator's own
// error when `running` (its fixture call) fails first, e.g. because create() threw.
export async function stopWhileInitialising(
  pid: number,
  name: string,
  created: Promise<unknown>,
  running: Promise<unknown>,
  timeoutMs = 15_000,
): Promise<boolean> {
  let returned = false;
  created.then(
    () => (returned = true),
    () => (returned = true),
  );
  let failed: unknown;
  running.catch((e: unknown) => (failed = e ?? new Error('the creator failed')));
  const path = `${SHM_DIR}${name}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Spin in short bursts: the window after ftruncate is only as long as the creator's fallocate.
    const burst = Date.now() + 5;
    let sized = false;
    while (!sized && Date.now() < burst) {
      try {
        sized = statSync(path).size > 0;
      } catch {
        // not created yet
      }
    }
    if (sized) break;
    if (failed !== undefined) throw failed;
    if (Date.now() > deadline) throw new Error(`the creator did not make ${path} within ${timeoutMs} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
  process.kill(pid, 'SIGSTOP');
  // A 'created' event sent before the stop is already in the pipe: give the event loop a moment.
  await sleep(100);
  return !returned;
}
