// Deterministic timing: start a wait at a chosen point of the monotonic clock's current second.
//
// A deadline built from a timespec goes wrong only when the nanoseconds overflow into the next
// second (now.tv_nsec + timeout's fraction >= 1e9), and an elapsed time computed from split
// seconds and nanoseconds goes wrong at a second boundary. Left to chance, such a bug fails some
// runs and passes others. Starting the wait at a known phase makes it fail every run: a 999 ms
// wait started 500 ms into a second always crosses into the next one. process.hrtime reads
// CLOCK_MONOTONIC, the clock the native code uses.
const NS_PER_S = 1_000_000_000n;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// Milliseconds into the current second of CLOCK_MONOTONIC.
export function phaseOfSecondMs(): number {
  return Number(process.hrtime.bigint() % NS_PER_S) / 1e6;
}

// Resolves when the clock is between `ms` and `ms + 20` milliseconds into a second.
export async function atPhaseOfSecond(ms: number): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const wait = (ms - phaseOfSecondMs() + 1000) % 1000;
    if (wait > 30) await sleep(wait - 25);
    // Spin the last few milliseconds (a timer may fire late), giving up this second if overshot.
    for (;;) {
      const phase = phaseOfSecondMs();
      const ahead = (phase - ms + 1000) % 1000;
      if (ahead < 20) return;
      if (ahead < 500) break; // past the window: aim for the next second
    }
  }
  throw new Error(`could not start at ${ms} ms into a second in 20 tries: the machine is too loaded`);
}
