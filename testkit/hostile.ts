// Hostile segments: write random and adversarial values into the fields of a live segment, run every
// operation from another process, and require typed errors, never a signal.
//
// A phase's fuzz test supplies three things: the fields of its layout (name, offset, width), a child
// fixture that runs every operation and reports one outcome per operation, and which error codes
// each field may cause. fuzzSegment() does the rest: it draws each field's values from a seeded
// generator, writes one value at a time into the segment file, has the child probe, restores the
// bytes, and collects every case where the child died or an operation failed with an untyped or
// unexpected error. The seed is printed with every failure (replay: MINIRAY_FUZZ_SEED=<seed>).
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

import { expect } from 'vitest';

import { ChildExitedError, spawnChild, type Child } from './children.js';
import { SHM_DIR } from './segments.js';

// ---- the layout under attack -----------------------------------------------------------------

export type FieldKind =
  | 'magic' // a constant that identifies the layout
  | 'size' // a byte count (segment size, capacity, an object's size)
  | 'offset' // a position in the segment
  | 'count' // a number of things (objects, slots)
  | 'word' // a state word, a pid: any value may appear
  | 'lock' // a word of a pthread mutex: only values glibc handles without asserting (see below)
  | 'unknown' // a word of a layout the test does not know (a student's): the same safe values
  | 'bytes'; // an opaque byte string (an object id)

export interface Field {
  readonly name: string; // 'header.capacity', 'table[1].offset'
  readonly offset: number; // from the segment's first byte
  readonly width: number; // bytes: 1, 2, 4 or 8 for numbers, anything for 'bytes'
  readonly kind: FieldKind;
}

// A little-endian integer field.
export const field = (name: string, offset: number, width: 1 | 2 | 4 | 8, kind: FieldKind): Field => ({
  name,
  offset,
  width,
  kind,
});

// Every 8-byte word of [from, to), for a layout the test cannot know (a student's own header).
export function unknownWords(from: number, to: number): Field[] {
  const out: Field[] = [];
  for (let o = from; o + 8 <= to; o += 8) out.push(field(`bytes ${o}-${o + 7}`, o, 8, 'unknown'));
  return out;
}

// ---- deterministic randomness ----------------------------------------------------------------

// The seed of a fuzz run: MINIRAY_FUZZ_SEED when set (to replay a failure), else `fallback`.
export function fuzzSeed(fallback: number): number {
  const env = process.env.MINIRAY_FUZZ_SEED;
  if (env === undefined || env === '') return fallback;
  const n = Number(env);
  if (!Number.isSafeInteger(n)) throw new Error(`MINIRAY_FUZZ_SEED must be an integer, got '${env}'`);
  return n;
}

// splitmix64: a seeded generator of 64-bit values (as bigints), the same on every machine.
export class Rng {
  private state: bigint;

  constructor(seed: number) {
    this.state = BigInt.asUintN(64, BigInt(seed));
  }

  next64(): bigint {
    this.state = BigInt.asUintN(64, this.state + 0x9e3779b97f4a7c15n);
    let z = this.state;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    return z ^ (z >> 31n);
  }

  // A value in [0, n).
  below(n: number): number {
    return Number(this.next64() % BigInt(n));
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i += 8) {
      const word = Buffer.alloc(8);
      word.writeBigUInt64LE(this.next64());
      word.copy(out, i, 0, Math.min(8, n - i));
    }
    return out;
  }
}

// ---- values ------------------------------------------------------------------------------------

export interface ValueContext {
  readonly segmentSize: number;
  // Values of the segment's own fields worth echoing into others (an offset that is valid for one
  // field is an adversarial value for another), e.g. the table's and the data region's offsets.
  readonly landmarks?: readonly number[];
}

// Values that are safe in any word of a pthread mutex: glibc refuses them (EINVAL: no such mutex
// kind), treats the lock as a dead owner's, or times out, but never asserts. A random value can
// select glibc's priority-protect kinds, whose lock path asserts on a garbage owner and aborts:
// code that wants to survive that checks the kind word itself before every lock. A fuzzed word
// cannot tell that check from the field it hit, so mutex words and unknown layouts only get these,
// and the kind check has a test of its own that finds the mutex and forges its kind (phase 1:
// "a lock whose kind word another process overwrote ..." in solutions/phase1-shm/hidden/hostile.test.ts).
// Together they still break every geometry check that matters: all ones, a 64-aligned value that
// wraps past 2^64 once a table of up to 40 KiB is added to it, the sign bit and 2^32.
export const SAFE_WORDS: readonly bigint[] = [(1n << 64n) - 1n, (1n << 64n) - 4096n, 1n << 63n, 1n << 32n, 1n];

// The values tried in one field: the edges every check must get right (0, 1, the largest values of
// the width, both sides of the sign bit, both sides of the segment's size, values that wrap when
// added to an offset) and `randomCount` random ones.
export function hostileValues(f: Field, ctx: ValueContext, rng: Rng, randomCount: number): Uint8Array[] {
  if (f.kind === 'lock' || f.kind === 'unknown') {
    const mask = (1n << BigInt(f.width * 8)) - 1n;
    return [...new Set(SAFE_WORDS.map((v) => v & mask))].map((v) => encodeLE(v, f.width));
  }
  if (f.kind === 'bytes') {
    const out: Uint8Array[] = [Buffer.alloc(f.width, 0), Buffer.alloc(f.width, 0xff)];
    for (let i = 0; i < randomCount; i += 1) out.push(rng.bytes(f.width));
    return out;
  }
  const bits = BigInt(f.width * 8);
  const max = (1n << bits) - 1n;
  const size = BigInt(ctx.segmentSize);
  const candidates: bigint[] = [0n, 1n, max, max - 1n, 1n << (bits - 1n), (1n << (bits - 1n)) - 1n];
  if (f.kind !== 'word' || f.width >= 4) {
    candidates.push(size, size - 1n, size + 1n, size / 2n, 64n, 4096n);
    for (const l of ctx.landmarks ?? []) candidates.push(BigInt(l));
  }
  if (f.width === 8) {
    // Offsets that wrap past zero once a table's bytes are added to them, and 32-bit edges.
    candidates.push(max - 63n, max - size + 1n, 1n << 32n, (1n << 32n) - 1n, 1n << 53n);
  }
  for (let i = 0; i < randomCount; i += 1) candidates.push(rng.next64() & max);
  const seen = new Set<string>();
  const out: Uint8Array[] = [];
  for (const c of candidates) {
    const v = ((c % (max + 1n)) + (max + 1n)) % (max + 1n);
    const key = v.toString();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(encodeLE(v, f.width));
  }
  return out;
}

export function encodeLE(value: bigint, width: number): Buffer {
  const out = Buffer.alloc(width);
  let v = value;
  for (let i = 0; i < width; i += 1) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

const show = (b: Uint8Array): string => (b.length <= 8 ? `0x${Buffer.from(b).reverse().toString('hex')}` : Buffer.from(b).toString('hex'));

// ---- the segment file ----------------------------------------------------------------------------

// Reads or writes bytes of /dev/shm/<name> in place, as another process (or a stray tool) would: every
// process that maps the segment sees the change at once.
export function readSegment(name: string, offset: number, length: number): Buffer {
  const fd = openSync(`${SHM_DIR}${name}`, 'r');
  try {
    const out = Buffer.alloc(length);
    readSync(fd, out, 0, length, offset);
    return out;
  } finally {
    closeSync(fd);
  }
}

export function writeSegment(name: string, offset: number, bytes: Uint8Array): void {
  const fd = openSync(`${SHM_DIR}${name}`, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

// ---- outcomes and assertions --------------------------------------------------------------------

// What one operation did in the child: 'ok' or the error's code ('none' for an error without one).
export interface OpOutcome {
  readonly op: string;
  readonly result: string;
  readonly message?: string;
}

// Runs `fn` and records its outcome (used inside fixtures).
export function attempt(op: string, fn: () => unknown): OpOutcome {
  try {
    fn();
    return { op, result: 'ok' };
  } catch (e) {
    const err = e as Error & { code?: unknown };
    return { op, result: typeof err.code === 'string' ? err.code : 'none', message: String(err.message) };
  }
}

// How a child ended, for messages: 'killed by SIGSEGV', 'exited with code 1', 'alive'.
export async function howEnded(child: Child, waitMs = 2000): Promise<string> {
  if (child.alive) {
    const r = await Promise.race([child.exited, new Promise<undefined>((res) => setTimeout(() => res(undefined), waitMs))]);
    if (r === undefined) return 'alive';
    return r.signal !== null ? `killed by ${r.signal}` : `exited with code ${r.code}`;
  }
  const r = await child.exited;
  return r.signal !== null ? `killed by ${r.signal}` : `exited with code ${r.code}`;
}

// The "no signal" assertion: the child that ran the operations is still running.
export async function expectAlive(child: Child, what: string): Promise<void> {
  const ended = await howEnded(child, 50);
  expect(ended, `${what}: the process must survive (a signal or abort is never acceptable)`).toBe('alive');
}

// ---- the driver ---------------------------------------------------------------------------------

export interface HostileCase {
  readonly field: Field;
  readonly value: Uint8Array;
}

export interface FuzzOptions<A> {
  readonly segment: string; // the live segment under attack
  readonly fields: readonly Field[];
  readonly seed: number;
  readonly values: ValueContext;
  readonly randomPerField: number;
  // The bytes restored after each case: every field the cases write lies inside.
  readonly restore: { readonly offset: number; readonly length: number };
  // Runs every operation in `child` and returns one outcome per operation. Called once per case.
  readonly probe: (child: Child, c: HostileCase) => Promise<readonly OpOutcome[]>;
  // Called whenever a child is started (again): e.g. to open a handle before any corruption.
  readonly prepare?: (child: Child) => Promise<A>;
  // The codes a case may produce besides 'ok' (per field: e.g. a lock word may also time out).
  readonly allowed: (f: Field) => readonly string[];
  readonly label: string;
}

export interface FuzzReport {
  readonly cases: number;
  readonly failures: readonly string[];
}

// Runs every case; never throws for a case (the failures are returned, each naming the field, the
// value and the seed), so one bad field does not hide the others.
export async function fuzzSegment<A>(o: FuzzOptions<A>): Promise<FuzzReport> {
  const rng = new Rng(o.seed);
  const pristine = readSegment(o.segment, o.restore.offset, o.restore.length);
  const failures: string[] = [];
  let child = await spawnChild({ label: o.label });
  if (o.prepare !== undefined) await o.prepare(child);
  let cases = 0;
  for (const f of o.fields) {
    if (f.offset < o.restore.offset || f.offset + f.width > o.restore.offset + o.restore.length) {
      throw new Error(`field ${f.name} lies outside the restored region`);
    }
    for (const value of hostileValues(f, o.values, rng, o.randomPerField)) {
      cases += 1;
      const c: HostileCase = { field: f, value };
      const where = `${o.label}: ${f.name} = ${show(value)} (seed ${o.seed}; replay with MINIRAY_FUZZ_SEED=${o.seed})`;
      writeSegment(o.segment, f.offset, value);
      try {
        const outcomes = await o.probe(child, c);
        const allowed = new Set(['ok', ...o.allowed(f)]);
        for (const out of outcomes) {
          if (!allowed.has(out.result)) {
            failures.push(`${where}: ${out.op} failed with ${out.result}: ${out.message ?? ''}`.trim());
          }
        }
      } catch (e) {
        const ended = e instanceof ChildExitedError || !child.alive ? await howEnded(child) : 'alive';
        failures.push(`${where}: the prober ${ended === 'alive' ? `failed: ${(e as Error).message.split('\n')[0]}` : ended}`);
        await child.kill().catch(() => undefined);
        child = await spawnChild({ label: o.label });
        writeSegment(o.segment, o.restore.offset, pristine);
        if (o.prepare !== undefined) await o.prepare(child);
      }
      writeSegment(o.segment, o.restore.offset, pristine);
    }
  }
  await child.kill().catch(() => undefined);
  return { cases, failures };
}

// Fails the test with the first failures of a report (all of them are usually the same bug).
export function expectNoFailures(report: FuzzReport, what: string): void {
  const shown = report.failures.slice(0, 12);
  const more = report.failures.length > shown.length ? `\n... and ${report.failures.length - shown.length} more` : '';
  expect(report.failures, `${what}: ${report.failures.length} of ${report.cases} cases failed:\n${shown.join('\n')}${more}`).toEqual([]);
}
