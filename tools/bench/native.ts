// The benchmark's own native helper (tools/bench/native/bench_native.cc): memcpy and an empty call.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { BUILD_DIR } from '../../lib/phases.js';
import { buildTarget } from '../build.js';

export interface BenchNative {
  memcpy(dst: Uint8Array, offset: number, src: Uint8Array, n: number): void;
  noop(): void;
  hold(view: Uint8Array): void;
  view(offset: number, n: number): Uint8Array;
  idArg(hex: string): number;
  getpid(): number;
  // n bytes of MAP_SHARED memory, the kind a segment is, already populated.
  sharedRegion(n: number): Uint8Array;
  // Reads one byte per page of the view's whole ArrayBuffer (pre-faults a mapping).
  touch(view: Uint8Array): number;
}

const require = createRequire(import.meta.url);

export function loadBenchNative(skipBuild: boolean): BenchNative {
  const file = join(BUILD_DIR, 'Release', 'bench_native.node');
  if (!skipBuild || !existsSync(file)) {
    const status = buildTarget('bench_native');
    if (!status.ok) {
      throw new Error(`bench_native (tools/bench/native) does not compile:\n  ${status.diagnostics.join('\n  ')}`);
    }
  }
  return require(file) as BenchNative;
}
