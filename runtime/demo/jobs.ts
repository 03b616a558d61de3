// The demo's two jobs, each three ways (one process, mini-Ray, Node IPC), shared by the demo
// (main.ts) and the benchmark (bench.ts): a Mandelbrot image rendered in tiles, and a map-reduce
// word count over a generated corpus. Each returns its result; checksums make the three comparable.
import { createHash } from 'node:crypto';

import type { ObjectRef, Runtime } from '../index.js';
import type { IpcPool } from './ipc-pool.js';
import * as tasks from './tasks.js';

export const sha = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex').slice(0, 16);
export const countsChecksum = (c: Record<string, number>): string => sha(JSON.stringify(Object.entries(c).sort(([x], [y]) => (x < y ? -1 : 1))));

// ---- the image job: render once, then shade several frames ----
//
// Stage 1 renders each tile's escape-time field (4 bytes a pixel) once. Stage 2 shades every tile
// of every frame, the light circling the image from frame to frame, from the tile's field and a
// border of its neighbours' (a halo), into RGB (3 bytes a pixel). Shading is cheap per byte: the
// job is bound by moving bytes. On mini-Ray the fields stay in the store, and each shading task
// reads its tile and halo as views of it; with Node IPC every field goes to the driver, out again
// with its halo for every frame, and every shaded tile comes back.

export interface ImageJob {
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  readonly size: number; // tiles are size x size (the last column and row may be smaller)
  readonly cols: number;
  readonly rows: number;
  readonly tiles: readonly tasks.TileSpec[]; // row by row
}

export function imageJob(quick: boolean): ImageJob {
  const width = quick ? 768 : 3072;
  const height = quick ? 512 : 2048;
  const size = quick ? 128 : 256;
  const tiles: tasks.TileSpec[] = [];
  for (let y0 = 0; y0 < height; y0 += size) {
    for (let x0 = 0; x0 < width; x0 += size) {
      tiles.push({
        x0,
        y0,
        w: Math.min(size, width - x0),
        h: Math.min(size, height - y0),
        size,
        width,
        height,
        centerX: -0.65, // the whole set: most pixels escape within a few iterations
        centerY: 0,
        span: 3.2,
        maxIter: 100,
      });
    }
  }
  return { width, height, frames: quick ? 4 : 8, size, cols: Math.ceil(width / size), rows: Math.ceil(height / size), tiles };
}

export const imageLabel = (job: ImageJob): string => `image ${job.width}x${job.height}, ${job.frames} frames, ${job.tiles.length} tiles`;

// The indices of a tile's eight neighbours, null outside the image: [nw, n, ne, w, e, sw, s, se].
export function neighbours(job: ImageJob, i: number): (number | null)[] {
  const col = i % job.cols;
  const row = Math.floor(i / job.cols);
  const out: (number | null)[] = [];
  for (const [dx, dy] of [[-1, -1], [0, -1], [1, -1], [-1, 0], [1, 0], [-1, 1], [0, 1], [1, 1]] as const) {
    const c = col + dx;
    const r = row + dy;
    out.push(c < 0 || r < 0 || c >= job.cols || r >= job.rows ? null : r * job.cols + c);
  }
  return out;
}

// Where a run writes its frames, one after the other, each width * height RGB. A caller that runs
// the job again passes the same buffer back (`out`), as a renderer keeps its frame buffer.
export const framesBuffer = (job: ImageJob): Buffer => Buffer.alloc(job.frames * job.width * job.height * 3);

function placeTile(frames: Buffer, job: ImageJob, frame: number, t: tasks.TileSpec, rgb: Uint8Array): void {
  const src = Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength); // no copy
  const base = frame * job.width * job.height * 3;
  for (let row = 0; row < t.h; row += 1) src.copy(frames, base + ((t.y0 + row) * job.width + t.x0) * 3, row * t.w * 3, (row + 1) * t.w * 3);
}

const aroundOf = (job: ImageJob, i: number, fields: readonly (Float32Array | undefined)[]): tasks.Neighbours =>
  neighbours(job, i).map((j) => (j === null ? null : (fields[j] ?? null))) as unknown as tasks.Neighbours;

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

export function imageOneProcess(job: ImageJob, frames = framesBuffer(job)): Buffer {
  const bar = new Progress('image, one process', job.frames * job.tiles.length);
  const fields = job.tiles.map((t) => tasks.renderField(t));
  const padded = job.tiles.map((t, i) => tasks.padTile(t, fields[i] as Float32Array, aroundOf(job, i, fields)));
  for (let f = 0; f < job.frames; f += 1) {
    const light = tasks.lightOf(f, job.frames);
    job.tiles.forEach((t, i) => {
      placeTile(frames, job, f, t, tasks.shadePadded(padded[i] as Float32Array, t.w, t.h, light));
      bar.tick();
    });
  }
  return frames;
}

export async function imageMiniRay(rt: Runtime, job: ImageJob, frames = framesBuffer(job)): Promise<Buffer> {
  const url = new URL('./tasks.ts', import.meta.url);
  const render = rt.remote<typeof tasks.renderField>(url, 'renderField');
  const shade = rt.remote<typeof tasks.shadeTile>(url, 'shadeTile');
  // Stage 1's refs go straight into stage 2's tasks: each runs when its tile and neighbours exist.
  const fields = job.tiles.map((t) => render.remote(t));
  const where = new Map<ObjectRef<Buffer>, { frame: number; tile: tasks.TileSpec }>();
  let pending: ObjectRef<Buffer>[] = [];
  for (let f = 0; f < job.frames; f += 1) {
    const light = tasks.lightOf(f, job.frames);
    job.tiles.forEach((t, i) => {
      const around = neighbours(job, i).map((j) => (j === null ? null : (fields[j] as ObjectRef<Float32Array>)));
      const ref = shade.remote(t, light, fields[i] as ObjectRef<Float32Array>, ...around);
      where.set(ref, { frame: f, tile: t });
      pending.push(ref);
    });
  }
  rt.free(fields); // each field is deleted once the shading tasks that read it have run
  const bar = new Progress('image, mini-Ray', pending.length);
  while (pending.length > 0) {
    // A few tiles at a time: each wait() looks at every ref still pending.
    const { ready, notReady } = await rt.wait(pending, { numReturns: Math.min(pending.length, 8), timeoutMs: 120_000 });
    if (ready.length === 0) throw new Error('no tile finished within 120 s');
    for (const ref of ready) {
      const view = await rt.get(ref); // a zero-copy view of the tile in the store
      const at = where.get(ref) as { frame: number; tile: tasks.TileSpec };
      placeTile(frames, job, at.frame, at.tile, view);
      rt.free(ref);
      bar.tick();
    }
    pending = notReady;
  }
  return frames;
}

// With Node IPC, the fields come back to the driver. As soon as a tile and its neighbours are
// back, the driver cuts the tile with its halo and sends it out once per frame; the RGB comes back.
export async function imageIpc(pool: IpcPool, job: ImageJob, frames = framesBuffer(job)): Promise<Buffer> {
  const bar = new Progress('image, Node IPC', job.frames * job.tiles.length);
  const fields: (Float32Array | undefined)[] = new Array<Float32Array | undefined>(job.tiles.length);
  const block = (i: number): number[] => [i, ...neighbours(job, i).filter((j): j is number => j !== null)];
  const missing = job.tiles.map((_, i) => block(i).length); // fields each tile still waits for
  const readers = job.tiles.map((_, i) => block(i).length); // tiles still to be cut from each field
  const lights = Array.from({ length: job.frames }, (_, f) => tasks.lightOf(f, job.frames));
  const shaded: Promise<void>[] = [];
  const shadeTile = (i: number): void => {
    const t = job.tiles[i] as tasks.TileSpec;
    const padded = tasks.padTile(t, fields[i] as Float32Array, aroundOf(job, i, fields));
    for (const j of block(i)) if (--(readers[j] as number) === 0) fields[j] = undefined;
    lights.forEach((light, f) =>
      shaded.push(
        pool.call('shadePadded', padded, t.w, t.h, light).then((rgb) => {
          placeTile(frames, job, f, t, rgb);
          bar.tick();
        }),
      ),
    );
  };
  await Promise.all(
    job.tiles.map(async (t, i) => {
      fields[i] = await pool.call('renderField', t);
      for (const j of block(i)) if (--(missing[j] as number) === 0) shadeTile(j);
    }),
  );
  await Promise.all(shaded);
  return frames;
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

