// Remote functions for the runtime's suite: every worker imports this module by its path.
import { existsSync, writeFileSync } from 'node:fs';

import { currentTask, resultBuffer } from '../context.js';

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

// ---- results written in place (resultBuffer) ----

function fillPattern(out: Uint8Array, seed: number, from = 0): void {
  const p = pattern(out.length, seed);
  out.set(p.subarray(from), from);
}

// pattern(n, seed), written straight into the result object.
export function patternInPlace(n: number, seed: number): Buffer {
  const out = resultBuffer(n);
  fillPattern(out, seed);
  return out;
}

// 0, 0.5, 1, ... as a Float64Array over the result object.
export function halvesInPlace(n: number): Float64Array {
  const bytes = resultBuffer(n * 8);
  const out = new Float64Array(bytes.buffer, bytes.byteOffset, n);
  for (let i = 0; i < n; i += 1) out[i] = i / 2;
  return out;
}

// Writes half a result in place, then throws.
export function throwWhileWriting(n: number): never {
  resultBuffer(n).fill(7, 0, n >> 1);
  throw new ParseFailure(`gave up after ${n >> 1} bytes`);
}

// Asks for a result buffer, then returns something else: that value is the result. Says how large
// the memory behind the buffer was (in a worker: the store's whole mapping).
export function returnOtherThanBuffer(n: number): { windowBytes: number } {
  const out = resultBuffer(n);
  out.fill(1);
  return { windowBytes: out.buffer.byteLength };
}

export function resultBufferTwice(n: number): Buffer {
  resultBuffer(n);
  return resultBuffer(n);
}

// Writes the first half of pattern(n, seed) in place; on its first attempt it then creates `path`
// (the test's barrier) and never returns (the test kills its worker mid-write); later attempts
// write the rest.
export async function hangWhileWritingOnFirstAttempt(n: number, seed: number, path: string): Promise<Buffer> {
  const out = resultBuffer(n);
  const p = pattern(n, seed);
  out.set(p.subarray(0, n >> 1));
  if ((currentTask()?.attempt ?? 0) <= 1) {
    writeFileSync(path, 'half written');
    await new Promise((resolve) => setTimeout(resolve, 60_000));
  }
  out.set(p.subarray(n >> 1), n >> 1);
  return out;
}
