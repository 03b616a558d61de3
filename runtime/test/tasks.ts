// Remote functions for the runtime's suite: every worker imports this module by its path.
import { existsSync } from 'node:fs';

import { currentTask } from '../context.js';

export function square(x: number): number {
  return x * x;
}

// Called only as the dependent of a failed task, so a test can tell "it never ran" from any other
// test's tasks whose start notes are still arriving.
export function onlyAfterFailure(x: number): number {
  return x * x;
}

export function add(a: number, b: number): number {
  return a + b;
}

// Sums a Float64Array that arrives as a zero-copy view of the store; says whether it was one.
export function sumFloats(values: Float64Array): { sum: number; viewOfStore: boolean } {
  let sum = 0;
  for (const v of values) sum += v;
  return { sum, viewOfStore: values.buffer.byteLength > values.byteLength * 4 };
}

// `n` bytes of a sequence that depends only on `seed` (a xorshift), as a Buffer.
export function pattern(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed | 1;
  for (let i = 0; i < n; i += 1) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function checksum(bytes: Uint8Array): number {
  let h = 2166136261;
  for (const b of bytes) h = Math.imul(h ^ b, 16777619) >>> 0;
  return h;
}

export class ParseFailure extends Error {
  override name = 'ParseFailure';
}

export function failDeep(what: string): never {
  throw new ParseFailure(`cannot parse '${what}'`);
}

export function whoAmI(): { pid: number; attempt: number } {
  return { pid: process.pid, attempt: currentTask()?.attempt ?? 0 };
}

// On its first attempt it never returns (the test kills its worker); later attempts compute.
export async function hangOnFirstAttempt(n: number, seed: number): Promise<{ attempt: number; sum: number }> {
  const attempt = currentTask()?.attempt ?? 0;
  if (attempt <= 1) await new Promise((resolve) => setTimeout(resolve, 60_000));
  return { attempt, sum: checksum(pattern(n, seed)) };
}

// Never returns: every worker that runs it is killed by the test.
export async function hangAlways(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 60_000));
  return 0;
}

// The checksum of pattern(n, seed), computed in the worker (a few ms of work per task).
export function patternSum(n: number, seed: number): number {
  return checksum(pattern(n, seed));
}

// The checksum of bytes that arrive as a view of the store; the other arguments only order it
// after the tasks that made them.
export function checksumAfter(bytes: Uint8Array, ..._after: unknown[]): number {
  return checksum(bytes);
}

// Returns once `path` exists (the test creates it: a barrier), failing after `timeoutMs`.
export async function whenFileExists(path: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} did not appear within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return path;
}
