// Catching a creator in the middle of initialising its segment, to test what an opener does then.
//
// The creator, a child process, is stopped (SIGSTOP) as soon as the segment's file has its size:
// ftruncate is done, and the creator is reserving the pages (posix_fallocate of a large segment
// takes tens of milliseconds) or writing the header. Whether it was caught before create() returned
// is known, not guessed: a creator that finished had sent its 'created' event before it was stopped.
import { rmSync, statSync } from 'node:fs';

import { spawnChild, type Child, type FixtureModule } from './children.js';
import type { Fixture } from './protocol.js';
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

// A phase's fixture module with `createAndPut`: creates the store `name` of `capacity` bytes, emits
// 'created' once create() returned, then puts an object and emits 'put' with its id.
export type CreatesAndPuts = { readonly createAndPut: Fixture<{ name: string; capacity: number }, void> };

export interface CaughtCreator {
  readonly name: string;
  readonly creator: Child; // stopped (SIGSTOP) inside create(): SIGCONT lets it finish
  readonly capacity: number;
  readonly running: Promise<void>; // its createAndPut call
}

// A creator caught between sizing its file and returning from create(). One that finished before
// it could be stopped (a loaded machine may not run this process within the fallocate of a small
// segment) is killed, its segment removed, and tried again with a segment twice as large: 64 MiB,
// then up to 1 GiB, each a wider window.
export async function creatorCaughtInitialising(
  fx: FixtureModule<CreatesAndPuts>,
  segment: () => string,
  attempts = 5,
): Promise<CaughtCreator> {
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const name = segment();
    const capacity = 64 * 2 ** 20 * 2 ** attempt;
    const creator = await spawnChild({ label: 'creator' });
    const created = creator.waitEvent('created', 30_000);
    const running = creator.run(fx, 'createAndPut', { name, capacity }, 60_000);
    running.catch(() => undefined);
    if (await stopWhileInitialising(creator.pid, name, created, running)) return { name, creator, capacity, running };
    await creator.kill('SIGKILL');
    rmSync(`${SHM_DIR}${name}`, { force: true });
  }
  throw new Error(`the creator finished create() ${attempts} times, up to ${2 ** (attempts - 1) * 64} MiB, before it could be stopped halfway`);
}
