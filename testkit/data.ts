// Test data every suite (and the benchmarks) share: deterministic bytes any process can
// regenerate from a seed, and the checksum objects are compared by.
import { createHash } from 'node:crypto';

export const sha1 = (data: Uint8Array): string => createHash('sha1').update(data).digest('hex');

// xorshift32 bytes from `seed`: the same seed gives the same bytes in every process.
export function patternBytes(seed: number, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i += 1) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
