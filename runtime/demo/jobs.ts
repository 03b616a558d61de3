// The demo's two jobs, each three ways (one process, mini-Ray, Node IPC), shared by the demo
// (main.ts) and the benchmark (bench.ts): a Mandelbrot image rendered in tiles, and a map-reduce
// word count over a generated corpus. Each returns its result; checksums make the three comparable.
import { createHash } from 'node:crypto';

import type { ObjectRef, Runtime } from '../index.js';
import type { IpcPool } from './ipc-pool.js';
import * as tasks from './tasks.js';

export const sha = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex').slice(0, 16);
export const countsChecksum = (c: Record<string, number>): string => sha(JSON.stringify(Object.entries(c).sort(([x], [y]) => (x < y ? -1 : 1))));

// ---- the image job ----

export interface ImageJob {
  readonly width: number;
  readonly height: number;
  readonly tiles: readonly tasks.TileSpec[];
}

export function imageJob(quick: boolean): ImageJob {
  const width = quick ? 360 : 1200;
  const height = quick ? 240 : 800;
  const size = quick ? 60 : 80;
  const tiles: tasks.TileSpec[] = [];
  for (let y0 = 0; y0 < height; y0 += size) {
    for (let x0 = 0; x0 < width; x0 += size) {
      tiles.push({
        x0,
        y0,
        w: Math.min(size, width - x0),
        h: Math.min(size, height - y0),
        width,
        height,
        centerX: -0.7436447860,
        centerY: 0.1318252536,
        span: 0.0064,
        maxIter: quick ? 600 : 1500,
      });
    }
  }
  return { width, height, tiles };
}

function placeTile(image: Buffer, job: ImageJob, t: tasks.TileSpec, rgb: Uint8Array): void {
  for (let row = 0; row < t.h; row += 1) {
    image.set(rgb.subarray(row * t.w * 3, (row + 1) * t.w * 3), ((t.y0 + row) * job.width + t.x0) * 3);
  }
}

// Progress bars on stderr (when it is a terminal); the benchmark turns them off.
export const progressBars = { enabled: true };

export class Progress {
  private done = 0;
  constructor(private readonly label: string, private readonly total: number) {
    this.draw();
  }
  tick(): void {
    this.done += 1;
    this.draw();
  }
  private draw(): void {
    if (!progressBars.enabled || !process.stderr.isTTY) return;
    const width = 30;
    const filled = Math.round((this.done / this.total) * width);
    process.stderr.write(`\r  ${this.label.padEnd(22)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total}`);
    if (this.done === this.total) process.stderr.write('\r\x1b[K');
  }
}

export function imageOneProcess(job: ImageJob): Buffer {
  const image = Buffer.alloc(job.width * job.height * 3);
  const bar = new Progress('image, one process', job.tiles.length);
  for (const t of job.tiles) {
    placeTile(image, job, t, tasks.renderTile(t));
    bar.tick();
  }
  return image;
}

export async function imageMiniRay(rt: Runtime, job: ImageJob): Promise<Buffer> {
  const render = rt.remote<typeof tasks.renderTile>(new URL('./tasks.ts', import.meta.url), 'renderTile');
  const image = Buffer.alloc(job.width * job.height * 3);
  const tileOf = new Map<ObjectRef<Buffer>, tasks.TileSpec>();
  let pending = job.tiles.map((t) => {
    const ref = render.remote(t);
    tileOf.set(ref, t);
    return ref;
  });
  const bar = new Progress('image, mini-Ray', job.tiles.length);
  while (pending.length > 0) {
    const { ready, notReady } = await rt.wait(pending, { numReturns: 1, timeoutMs: 120_000 });
    if (ready.length === 0) throw new Error('no tile finished within 120 s');
    for (const ref of ready) {
      const view = await rt.get(ref); // a zero-copy view of the tile in the store
      placeTile(image, job, tileOf.get(ref) as tasks.TileSpec, view);
      rt.free(ref);
      bar.tick();
    }
    pending = notReady;
  }
  return image;
}

export async function imageIpc(pool: IpcPool, job: ImageJob): Promise<Buffer> {
  const image = Buffer.alloc(job.width * job.height * 3);
  const bar = new Progress('image, Node IPC', job.tiles.length);
  await Promise.all(
    job.tiles.map(async (t) => {
      placeTile(image, job, t, await pool.call('renderTile', t));
      bar.tick();
    }),
  );
  return image;
}

// ---- the word-count job (map, then a tree of reduces) ----

export function corpus(quick: boolean): Buffer[] {
  return Array.from({ length: quick ? 8 : 32 }, (_, i) => tasks.generateChunk(i + 1, quick ? 128 << 10 : 1 << 20));
}

export function wordsOneProcess(chunks: readonly Buffer[]): Record<string, number> {
  return tasks.mergeCounts(...chunks.map((c) => tasks.countWords(c)));
}

export async function wordsMiniRay(rt: Runtime, chunks: readonly Buffer[]): Promise<Record<string, number>> {
  const url = new URL('./tasks.ts', import.meta.url);
  const count = rt.remote<typeof tasks.countWords>(url, 'countWords');
  const merge = rt.remote<typeof tasks.mergeCounts>(url, 'mergeCounts');
  const inputs = chunks.map((c) => rt.put(c)); // raw bytes in the store; workers read them zero-copy
  let level: ObjectRef<Record<string, number>>[] = inputs.map((ref) => count.remote(ref));
  while (level.length > 1) {
    const next: ObjectRef<Record<string, number>>[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const a = level[i] as ObjectRef<Record<string, number>>;
      const b = level[i + 1];
      next.push(b === undefined ? a : merge.remote(a, b));
    }
    level = next;
  }
  const total = await rt.get(level[0] as ObjectRef<Record<string, number>>, { timeoutMs: 120_000 });
  rt.free(inputs);
  return total;
}

export async function wordsIpc(pool: IpcPool, chunks: readonly Buffer[]): Promise<Record<string, number>> {
  let level = await Promise.all(chunks.map((c) => pool.call('countWords', c)));
  while (level.length > 1) {
    const pairs: Array<Promise<Record<string, number>>> = [];
    for (let i = 0; i < level.length; i += 2) {
      const a = level[i] as Record<string, number>;
      const b = level[i + 1];
      pairs.push(b === undefined ? Promise.resolve(a) : pool.call('mergeCounts', a, b));
    }
    level = await Promise.all(pairs);
  }
  return level[0] as Record<string, number>;
}

