// Reading and writing a scheduler segment's bytes directly, as a stray process (or one that died
// half-way through a change) would leave them. Offsets follow phase3-scheduler/glue/scheduler_layout.h;
// the region offsets come from the scheduler's own debug.layout().
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

import type { SchedulerLayout, TaskId, WorkerId } from '../../../phase3-scheduler/index.js';

// CommonHeader: magic (8), layout_version (4), state (4), segment_size (8).
export const COMMON_STATE = 12;
export const STATE_INITIALISING = 1;
export const STATE_READY = 2;

// Fields of a TaskRecord (640 bytes).
export const TASK = {
  state: 0,
  generation: 4,
  attempts: 8,
  maxAttempts: 12,
  worker: 16,
  queuedSeq: 24,
  ownerPid: 32,
  ownerStart: 40,
  fnLen: 48,
  nargs: 52,
  errorLen: 56,
  fn: 64,
} as const;

// Fields of a WorkerRecord (64 bytes).
export const WORKER = { state: 0, generation: 4, pid: 8, startTime: 16, task: 24, heartbeat: 32 } as const;

// The header's counts, from layout.countsOffset.
export const COUNTS = { used: 0, leased: 8, done: 16, failed: 24, nextFree: 32 } as const;

export const slotOf = (id: TaskId | WorkerId | number): number => id % 2 ** 20;
export const generationOf = (id: TaskId | WorkerId | number): number => Math.floor(id / 2 ** 20);

export class SegmentBytes {
  private readonly path: string;

  constructor(
    name: string,
    readonly layout: SchedulerLayout,
  ) {
    this.path = `/dev/shm${name}`;
  }

  private io<T>(fn: (fd: number) => T): T {
    const fd = openSync(this.path, 'r+');
    try {
      return fn(fd);
    } finally {
      closeSync(fd);
    }
  }

  read(offset: number, length: number): Buffer {
    return this.io((fd) => {
      const buf = Buffer.alloc(length);
      readSync(fd, buf, 0, length, offset);
      return buf;
    });
  }

  write(offset: number, bytes: Buffer): void {
    this.io((fd) => writeSync(fd, bytes, 0, bytes.length, offset));
  }

  u32(offset: number): number {
    return this.read(offset, 4).readUInt32LE(0);
  }

  u64(offset: number): bigint {
    return this.read(offset, 8).readBigUInt64LE(0);
  }

  setU32(offset: number, value: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value >>> 0, 0);
    this.write(offset, b);
  }

  setU64(offset: number, value: bigint | number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(value), 0);
    this.write(offset, b);
  }

  task(slot: number, field: number = 0): number {
    return this.layout.tasksOffset + slot * this.layout.taskRecordBytes + field;
  }

  worker(slot: number, field: number = 0): number {
    return this.layout.workersOffset + slot * this.layout.workerRecordBytes + field;
  }

  ring(seq: number | bigint): number {
    return this.layout.ringOffset + Number(BigInt(seq) % BigInt(this.layout.ringSlots)) * 8;
  }

  count(field: number): number {
    return this.layout.countsOffset + field;
  }

  get head(): bigint {
    return this.u64(this.layout.headOffset);
  }

  get tail(): bigint {
    return this.u64(this.layout.tailOffset);
  }
}
