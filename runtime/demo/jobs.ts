// The demo's two jobs, each three ways (one process, mini-Ray, Node IPC), shared by the demo
// (main.ts) and the benchmark (bench.ts): a Mandelbrot image rendered in tiles, and a map-reduce
// word count over a generated corpus. Each returns its result; checksums make the three comparable.
import { createHash } from 'node:crypto';

import type { ObjectRef, Runtime } from '../index.js';
import type { IpcPool } from './ipc-pool.js';
import * as tasks from './tasks.js';

export const sha = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex').slice(0, 16);
export const countsChecksum = (c: Record<string, number>): string => sha(JSON.stringify(Object.entries(c).sort(([x], [y]) => (x < y ? -1 : 1))));

// ---- the image job: render once, make a surface once, then light several frames ----
//
// Stage 1 renders each tile's escape-time field (4 bytes a pixel) once. Stage 2 turns each tile,
// with a border of its neighbours' fields (a halo), into a surface once: a normal and a hue for
// every pixel (4 bytes a pixel, as the field), as a renderer's G-buffer. Stage 3 lights every band (a row of
// tiles) of every frame, the light circling the image from frame to frame, from its tiles'
// surfaces into RGBA (a 32-bit word a pixel). Lighting is cheap per byte: the job is bound by moving
// bytes. On mini-Ray the fields and surfaces stay in the store, and each task reads its inputs as
// views of it; with Node IPC every field comes back to the driver and goes out again with its halo,
// every surface comes back, every band's surfaces go out again for every frame, and every lit band
// comes back. The three ways do the same computation.

export interface ImageJob {
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  readonly size: number; // tiles are size x size (the last column and row may be smaller)
  readonly cols: number;
  readonly rows: number;
  readonly tiles: readonly tasks.TileSpec[]; // row by row
  readonly bands: readonly (readonly tasks.TileSpec[])[]; // the tiles of each row, left to right
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
  const cols = Math.ceil(width / size);
  const rows = Math.ceil(height / size);
  const bands = Array.from({ length: rows }, (_, r) => tiles.slice(r * cols, (r + 1) * cols));
  return { width, height, frames: quick ? 4 : 24, size, cols, rows, tiles, bands };
}

// Store memory for mini-Ray to hold a run's frames (the driver reads them as views until the run
// is let go), its fields and surfaces, and the word count's corpus.
export const storeBytesFor = (job: ImageJob): number => Math.max(256 << 20, (job.frames + 3) * job.width * job.height * 4 + (64 << 20));

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

// A run's frames: every band of frame 0 top to bottom, then frame 1's, ... Each band is whole
// rows of RGBA pixels, so the bands in this order are the frames' bytes; each way keeps a band
// where it arrived (mini-Ray: in the store, read as a view; Node IPC: the buffer the channel
// delivered; one process: the buffer it lit), and none copies it again. `release` lets go of
// them (mini-Ray's objects are freed).
export interface ImageFrames {
  readonly bands: readonly Uint32Array[];
  readonly release: () => void;
}

export const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

// The checksum of a run's frames.
export function framesChecksum(frames: ImageFrames): string {
  const hash = createHash('sha256');
  for (const band of frames.bands) hash.update(bytesOf(band));
  return hash.digest('hex').slice(0, 16);
}

function checkBand(job: ImageJob, frame: number, band: number, rgba: Uint32Array): Uint32Array {
  const t = job.bands[band]?.[0] as tasks.TileSpec;
  if (rgba.length !== job.width * t.h) throw new Error(`band ${band} of frame ${frame}: ${rgba.length} pixels`);
  return rgba;
}

const aroundOf = <T>(job: ImageJob, i: number, fields: readonly (T | undefined)[]): (T | null)[] => neighbours(job, i).map((j) => (j === null ? null : (fields[j] ?? null)));

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

export function imageOneProcess(job: ImageJob): ImageFrames {
  const bar = new Progress('image, one process', job.frames * job.bands.length);
  const fields = job.tiles.map((t) => tasks.renderField(t));
  const surfaces = job.tiles.map((t, i) => tasks.surfaceTile(t, fields[i] as Float32Array, ...aroundOf(job, i, fields)));
  const bands: Uint32Array[] = [];
  for (let f = 0; f < job.frames; f += 1) {
    const light = tasks.lightOf(f, job.frames);
    job.bands.forEach((band, b) => {
      const first = b * job.cols;
      bands.push(checkBand(job, f, b, tasks.shadeBand(band, light, ...(surfaces.slice(first, first + band.length) as Uint32Array[]))));
      bar.tick();
    });
  }
  return { bands, release: () => undefined };
}

export async function imageMiniRay(rt: Runtime, job: ImageJob): Promise<ImageFrames> {
  const url = new URL('./tasks.ts', import.meta.url);
  const render = rt.remote<typeof tasks.renderField>(url, 'renderField');
  const surface = rt.remote<typeof tasks.surfaceTile>(url, 'surfaceTile');
  const shade = rt.remote<typeof tasks.shadeBand>(url, 'shadeBand');
  // Each stage's refs go straight into the next stage's tasks: each runs when its inputs exist.
  const fields = job.tiles.map((t) => render.remote(t));
  const surfaces = job.tiles.map((t, i) => surface.remote(t, fields[i] as ObjectRef<Float32Array>, ...aroundOf(job, i, fields)));
  rt.free(fields); // each field is deleted once the tasks that read it have run
  const lit: ObjectRef<Uint32Array>[] = [];
  for (let f = 0; f < job.frames; f += 1) {
    const light = tasks.lightOf(f, job.frames);
    job.bands.forEach((band, b) => {
      const first = b * job.cols;
      lit.push(shade.remote(band, light, ...(surfaces.slice(first, first + band.length) as ObjectRef<Uint32Array>[])));
    });
  }
  rt.free(surfaces);
  const bar = new Progress('image, mini-Ray', lit.length);
  const bands: Uint32Array[] = new Array<Uint32Array>(lit.length);
  const index = new Map(lit.map((ref, i) => [ref, i]));
  try {
    let pending = lit;
    while (pending.length > 0) {
      const { ready, notReady } = await rt.wait(pending, { numReturns: 1, timeoutMs: 120_000 });
      if (ready.length === 0) throw new Error('no band finished within 120 s');
      for (const ref of ready) {
        const i = index.get(ref) as number;
        // A zero-copy view of the band in the store: the frame is assembled from views.
        bands[i] = checkBand(job, Math.floor(i / job.rows), i % job.rows, await rt.get(ref));
        bar.tick();
      }
      pending = notReady;
    }
  } catch (e) {
    rt.free(lit);
    throw e;
  }
  return { bands, release: () => rt.free(lit) };
}

// With Node IPC, the fields come back to the driver. As soon as a tile and its neighbours are
// back, the driver cuts the tile with its halo and sends it out to have its surface made; as soon
// as a band's surfaces are back, it sends them out once per frame; the lit rows come back.
export async function imageIpc(pool: IpcPool, job: ImageJob): Promise<ImageFrames> {
  const bar = new Progress('image, Node IPC', job.frames * job.bands.length);
  const fields: (Float32Array | undefined)[] = new Array<Float32Array | undefined>(job.tiles.length);
  const surfaces: (Uint32Array | undefined)[] = new Array<Uint32Array | undefined>(job.tiles.length);
  const block = (i: number): number[] => [i, ...neighbours(job, i).filter((j): j is number => j !== null)];
  const missing = job.tiles.map((_, i) => block(i).length); // fields each tile still waits for
  const readers = job.tiles.map((_, i) => block(i).length); // tiles still to be cut from each field
  const unmade = job.bands.map((band) => band.length); // surfaces of each band still to come
  const lights = Array.from({ length: job.frames }, (_, f) => tasks.lightOf(f, job.frames));
  const bands: Uint32Array[] = new Array<Uint32Array>(job.frames * job.rows);
  const work: Promise<void>[] = [];
  const lightBand = (b: number): void => {
    const band = job.bands[b] as readonly tasks.TileSpec[];
    const first = b * job.cols;
    const inputs = surfaces.slice(first, first + band.length) as Uint32Array[];
    for (let k = first; k < first + band.length; k += 1) surfaces[k] = undefined;
    lights.forEach((light, f) =>
      work.push(
        pool.call('shadeBand', band, light, ...inputs).then((rgba) => {
          bands[f * job.rows + b] = checkBand(job, f, b, rgba);
          bar.tick();
        }),
      ),
    );
  };
  const makeSurface = (i: number): void => {
    const t = job.tiles[i] as tasks.TileSpec;
    const padded = tasks.padTile(t, fields[i] as Float32Array, aroundOf(job, i, fields) as unknown as tasks.Neighbours);
    for (const j of block(i)) if (--(readers[j] as number) === 0) fields[j] = undefined;
    work.push(
      pool.call('surfaceOfPadded', padded, t.w, t.h).then((surface) => {
        surfaces[i] = surface;
        const b = Math.floor(i / job.cols);
        if (--(unmade[b] as number) === 0) lightBand(b);
      }),
    );
  };
  await Promise.all(
    job.tiles.map(async (t, i) => {
      fields[i] = await pool.call('renderField', t);
      for (const j of block(i)) if (--(missing[j] as number) === 0) makeSurface(j);
    }),
  );
  // A call that settles may add more calls: wait until none is left.
  for (let done = 0; done < work.length; ) {
    const upTo = work.length;
    await Promise.all(work.slice(done, upTo));
    done = upTo;
  }
  return { bands, release: () => undefined };
}

// ---- the word-count job (map, then a tree of reduces) ----

export function corpus(quick: boolean): Buffer[] {
  return Array.from({ length: quick ? 8 : 32 }, (_, i) => tasks.generateChunk(i + 1, quick ? 128 << 10 : 2 << 20));
}

export function wordsOneProcess(chunks: readonly Buffer[]): Record<string, number> {
  return tasks.mergeCounts(...chunks.map((c) => tasks.countWords(c)));
}

export async function wordsMiniRay(rt: Runtime, chunks: readonly Buffer[]): Promise<Record<string, number>> {
  const url = new URL('./tasks.ts', import.meta.url);
  const count = rt.remote<typeof tasks.countWords>(url, 'countWords');
  const merge = rt.remote<typeof tasks.mergeCounts>(url, 'mergeCounts');
  // Each chunk goes into the store as raw bytes (workers read it zero-copy) and its task is
  // submitted at once, so that the workers start while the driver stores the next chunks.
  const inputs: ObjectRef<Buffer>[] = [];
  let level: ObjectRef<Record<string, number>>[] = chunks.map((c) => {
    const ref = rt.put(c);
    inputs.push(ref);
    return count.remote(ref);
  });
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

