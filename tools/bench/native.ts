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
  // Reads an id as every glue does: 20 bytes (Uint8Array) or 40 hex digits.
  idArg(id: string | Uint8Array): number;
  // Locks and unlocks a robust mutex in shared memory (native-common's RobustMutex); absent where
  // the release has no robust mutex yet (phase 1).
  lockUnlock?: () => void;
  // An id read as every glue does, then the same lock and unlock: contains(id) without the lookup.
  idLockUnlock?: (id: string | Uint8Array) => boolean;
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
  const native = require(file) as BenchNative;
  const lockFile = join(BUILD_DIR, 'Release', 'bench_lock.node');
  if (!skipBuild || !existsSync(lockFile)) buildTarget('bench_lock'); // optional: see bench_lock.cc
  if (existsSync(lockFile)) {
    const lock = require(lockFile) as Required<Pick<BenchNative, 'lockUnlock' | 'idLockUnlock'>>;
    return { ...native, lockUnlock: lock.lockUnlock, idLockUnlock: lock.idLockUnlock };
  }
  return native;
}
