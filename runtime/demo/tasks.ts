// The demo's remote functions. Plain functions of their arguments: the single-process run, the
// mini-Ray workers and the Node-IPC workers all call these same exports. Each stage writes its
// result into resultBuffer(): on mini-Ray that is the result object in the store (no copy), in the
// other two ways a Buffer of the process's own.
import { resultBuffer } from '../context.js';

export interface TileSpec {
  readonly x0: number; // the tile's first pixel column and row
  readonly y0: number;
  readonly w: number;
  readonly h: number;
  readonly size: number; // the grid's tile size: every tile but the last column and row is size x size
  readonly width: number; // the whole image
  readonly height: number;
  readonly centerX: number; // the complex plane's window
  readonly centerY: number;
  readonly span: number; // width of the window on the real axis
  readonly maxIter: number;
}

// ---- stage 1: render ----

// One tile of the Mandelbrot set's escape-time field (w * h floats, row by row): the smooth
// iteration count of each pixel, 0 inside the set. A high-dynamic-range image: stages 2 and 3 turn it
// into colours.
export function renderField(t: TileSpec): Float32Array {
  const bytes = resultBuffer(t.w * t.h * 4);
  const out = new Float32Array(bytes.buffer, bytes.byteOffset, t.w * t.h);
  const scale = t.span / t.width;
  const left = t.centerX - (t.width / 2) * scale;
  const top = t.centerY + (t.height / 2) * scale;
  let o = 0;
  for (let py = t.y0; py < t.y0 + t.h; py += 1) {
    const ci = top - py * scale;
    const ci2 = ci * ci;
    for (let px = t.x0; px < t.x0 + t.w; px += 1) {
      const cr = left + px * scale;
      // Inside the main cardioid or the period-2 bulb: in the set, no need to iterate.
      const q = (cr - 0.25) * (cr - 0.25) + ci2;
      if (q * (q + (cr - 0.25)) <= 0.25 * ci2 || (cr + 1) * (cr + 1) + ci2 <= 0.0625) {
        out[o] = 0;
        o += 1;
        continue;
      }
      let zr = 0;
      let zi = 0;
      let i = 0;
      let r2 = 0;
      let i2 = 0;
      while (i < t.maxIter && r2 + i2 <= 256) {
        zi = 2 * zr * zi + ci;
        zr = r2 - i2 + cr;
        r2 = zr * zr;
        i2 = zi * zi;
        i += 1;
      }
      out[o] = i >= t.maxIter ? 0 : i + 1 - Math.log2(Math.log2(r2 + i2) / 2);
      o += 1;
    }
  }
  return out;
}

// ---- stage 2: the surface ----

// The halo: a pixel's slope reads its neighbours, so a tile needs HALO pixels of the tiles around it.
const HALO = 1;

// The eight tiles around a tile, null outside the image: [nw, n, ne, w, e, sw, s, se].
export type Neighbours = readonly [
  Float32Array | null, Float32Array | null, Float32Array | null,
  Float32Array | null, Float32Array | null,
  Float32Array | null, Float32Array | null, Float32Array | null,
];

// The tile's field with a border of HALO pixels taken from its neighbours ((w + 2 HALO) x
// (h + 2 HALO) floats), in `out` if given (at least that long). At the image's edge the nearest
// pixel is repeated.
export function padTile(t: TileSpec, center: Float32Array, around: Neighbours, out = new Float32Array((t.w + 2 * HALO) * (t.h + 2 * HALO))): Float32Array {
  const pw = t.w + 2 * HALO;
  // Which tile (-1, 0, 1 on each axis) holds global row gy / column gx, clamped to the image,
  // and the row or column inside it.
  const rightW = Math.min(t.size, t.width - t.x0 - t.w);
  const sourceOf = (dx: number, dy: number): { data: Float32Array; w: number } => {
    if (dx === 0 && dy === 0) return { data: center, w: t.w };
    const data = around[dy < 0 ? 1 + dx : dy > 0 ? 6 + dx : dx < 0 ? 3 : 4];
    if (data === null || data === undefined) throw new Error(`tile (${t.x0}, ${t.y0}): neighbour (${dx}, ${dy}) is missing`);
    return { data, w: dx < 0 ? t.size : dx > 0 ? rightW : t.w };
  };
  for (let r = 0; r < t.h + 2 * HALO; r += 1) {
    const gy = Math.min(t.height - 1, Math.max(0, t.y0 - HALO + r));
    const dy = gy < t.y0 ? -1 : gy >= t.y0 + t.h ? 1 : 0;
    const ly = dy < 0 ? gy - (t.y0 - t.size) : dy > 0 ? gy - (t.y0 + t.h) : gy - t.y0;
    const row = r * pw;
    // The middle, then each side's HALO pixels.
    const mid = sourceOf(0, dy);
    out.set(mid.data.subarray(ly * mid.w, ly * mid.w + t.w), row + HALO);
    for (let k = 0; k < HALO; k += 1) {
      const gl = Math.max(0, t.x0 - HALO + k);
      const gr = Math.min(t.width - 1, t.x0 + t.w + k);
      const l = gl < t.x0 ? sourceOf(-1, dy) : mid;
      const rt = gr >= t.x0 + t.w ? sourceOf(1, dy) : mid;
      out[row + k] = l.data[ly * l.w + (gl < t.x0 ? gl - (t.x0 - t.size) : gl - t.x0)] ?? 0;
      out[row + HALO + t.w + k] = rt.data[ly * rt.w + (gr >= t.x0 + t.w ? gr - (t.x0 + t.w) : gr - t.x0)] ?? 0;
    }
  }
  return out;
}

// Colours: a cosine palette of PALETTE_SIZE hues, each lit at LIGHT_LEVELS levels and tone-mapped
// (Reinhard, v / (1 + v), at an exposure of 2.2, scaled so that white is 255) into an opaque RGBA
// pixel (bytes R, G, B, 255: one 32-bit word, as a frame buffer holds it), and after them one
// more row, all black, for the pixels in the set. Tabulated once per process, so that lighting a
// pixel is a look-up, with no test and no branch.
const PALETTE_SIZE = 1024;
const LIGHT_LEVELS = 64;
const AMBIENT = 0.35;
const EXPOSURE = 2.2;
const RELIEF = 12; // how steep the field stands as a surface
let colours: Uint32Array | null = null;

function colourTable(): Uint32Array {
  if (colours !== null) return colours;
  const table = new Uint32Array((PALETTE_SIZE + 1) * LIGHT_LEVELS);
  const bytes = new Uint8Array(table.buffer); // each word's bytes in memory order: R, G, B, A
  const scale = (255 * (1 + EXPOSURE)) / EXPOSURE;
  for (let p = 0; p < PALETTE_SIZE; p += 1) {
    const s = p / PALETTE_SIZE;
    const hue = [0, 0.15, 0.3].map((phase) => 0.5 + 0.5 * Math.cos(6.2832 * (s + phase)));
    for (let l = 0; l < LIGHT_LEVELS; l += 1) {
      const light = AMBIENT + ((1 - AMBIENT) * l) / (LIGHT_LEVELS - 1);
      const at = (p * LIGHT_LEVELS + l) * 4;
      for (let c = 0; c < 3; c += 1) {
        const v = (hue[c] as number) * light * EXPOSURE;
        bytes[at + c] = Math.round((scale * v) / (1 + v));
      }
      bytes[at + 3] = 255;
    }
  }
  table.fill(BLACK, PALETTE_SIZE * LIGHT_LEVELS); // the row of INSIDE
  colours = table;
  return table;
}

// An opaque black pixel, whatever the byte order of a word.
const BLACK = new Uint32Array(new Uint8Array([0, 0, 0, 255]).buffer)[0] as number;

// The light of frame `frame` of `frames`: it circles the image at 34 degrees above it.
export function lightOf(frame: number, frames: number): readonly [number, number, number] {
  const a = (2 * Math.PI * frame) / frames + Math.PI * 0.75; // frame 0: from the upper left
  const z = 1.5;
  const n = Math.sqrt(1 + z * z);
  return [Math.cos(a) / n, Math.sin(a) / n, z / n];
}

// A tile's surface, computed once from its padded field: one Uint32 a pixel, as a renderer's
// G-buffer holds what it needs to light a scene again and again. Bits 0-7 and 8-15: the x and y of
// the surface's unit normal (the surface (x, y, field); its z follows, being positive), each
// quantised from -1..1 to 0..NORMAL_STEPS; bits 16-31: the pixel's hue (a row of the colour
// table); INSIDE for a pixel in the set: the table's last row, black whatever the light. 4 bytes a
// pixel, as the field.
const NORMAL_STEPS = 255;
const INSIDE = (PALETTE_SIZE << 16) >>> 0;

export function surfaceOfPadded(padded: Float32Array, w: number, h: number): Uint32Array {
  const bytes = resultBuffer(w * h * 4);
  const out = new Uint32Array(bytes.buffer, bytes.byteOffset, w * h);
  const pw = w + 2 * HALO;
  const q = NORMAL_STEPS / 2;
  let o = 0;
  for (let y = 0; y < h; y += 1) {
    let i = (y + HALO) * pw + HALO;
    for (let x = 0; x < w; x += 1, i += 1, o += 1) {
      const f = padded[i] as number;
      if (f === 0) {
        out[o] = INSIDE;
        continue;
      }
      // The surface normal (-gx, -gy, 1), normalised.
      const gx = ((padded[i + 1] as number) - (padded[i - 1] as number)) * RELIEF;
      const gy = ((padded[i - pw] as number) - (padded[i + pw] as number)) * RELIEF; // y grows downwards
      const k = 1 / Math.sqrt(gx * gx + gy * gy + 1);
      const nx = Math.round((1 - gx * k) * q);
      const ny = Math.round((1 - gy * k) * q);
      const hue = ((Math.sqrt(f) * 160) | 0) & (PALETTE_SIZE - 1);
      out[o] = ((hue << 16) | (ny << 8) | nx) >>> 0;
    }
  }
  return out;
}

// The task of stage 2 on mini-Ray: the tile and its neighbours arrive as zero-copy views of the
// store and are cut into this worker's padded tile, which every task reuses.
let scratch = new Float32Array(0);
export function surfaceTile(t: TileSpec, center: Float32Array, ...around: (Float32Array | null)[]): Uint32Array {
  const n = (t.w + 2 * HALO) * (t.h + 2 * HALO);
  if (scratch.length < n) scratch = new Float32Array(n);
  return surfaceOfPadded(padTile(t, center, around as unknown as Neighbours, scratch), t.w, t.h);
}

// ---- stage 3: light ----

// One frame of a band (a row of tiles, left to right), lit from `light`: the tiles' surfaces
// into RGBA rows of the whole image's width (width * h pixels), which are the frame's rows as they
// are. The light level of each of the (NORMAL_STEPS + 1)^2 normals is tabulated first, so that a
// pixel is two look-ups and one word written: cheap per byte of its surface. The rows are written
// into resultBuffer(): on mini-Ray, straight into the result object in the store.
export function shadeBand(band: readonly TileSpec[], light: readonly [number, number, number], ...surfaces: Uint32Array[]): Uint32Array {
  const first = band[0];
  if (first === undefined || surfaces.length !== band.length) throw new Error(`a band of ${band.length} tiles got ${surfaces.length} surfaces`);
  const table = colourTable();
  const levels = lightLevels(light);
  const stride = first.width;
  const bytes = resultBuffer(stride * first.h * 4);
  const out = new Uint32Array(bytes.buffer, bytes.byteOffset, stride * first.h);
  band.forEach((t, b) => {
    const surface = surfaces[b] as Uint32Array;
    if (surface.length !== t.w * t.h) throw new Error(`tile (${t.x0}, ${t.y0}): a surface of ${surface.length} pixels`);
    let s = 0;
    for (let y = 0; y < t.h; y += 1) {
      let o = y * stride + t.x0;
      for (let x = 0; x < t.w; x += 1, s += 1, o += 1) {
        const v = surface[s] as number;
        out[o] = table[(v >>> 16) * LIGHT_LEVELS + (levels[v & 0xffff] as number)] as number;
      }
    }
  });
  return out;
}

// The light level (0..LIGHT_LEVELS - 1) of every quantised normal, by its 16 bits (y, x). Kept for
// the last few lights: every band of a frame has the same light.
const levelTables = new Map<string, Uint8Array>();

function lightLevels(light: readonly [number, number, number]): Uint8Array {
  const key = light.join(',');
  const known = levelTables.get(key);
  if (known !== undefined) return known;
  const out = new Uint8Array((NORMAL_STEPS + 1) * (NORMAL_STEPS + 1));
  const top = LIGHT_LEVELS - 1;
  for (let qy = 0; qy <= NORMAL_STEPS; qy += 1) {
    const ny = (qy * 2) / NORMAL_STEPS - 1;
    for (let qx = 0; qx <= NORMAL_STEPS; qx += 1) {
      const nx = (qx * 2) / NORMAL_STEPS - 1;
      const nz = Math.sqrt(Math.max(0, 1 - nx * nx - ny * ny));
      const lambert = nx * light[0] + ny * light[1] + nz * light[2];
      out[(qy << 8) | qx] = lambert > 0 ? Math.min(top, (lambert * top + 0.5) | 0) : 0;
    }
  }
  if (levelTables.size >= 16) levelTables.delete(levelTables.keys().next().value as string);
  levelTables.set(key, out);
  return out;
}

// Word counts of one chunk of text (words are runs of ASCII lowercase letters; any other byte
// separates them), as a plain object. Counted on the bytes, as a word counter in C would: each word
// is hashed as it is read and looked up in an open-addressing table of the words seen so far, and
// becomes a string only once, for the result. Cheap per byte, so that moving the chunk to a worker
// is a visible part of the job's cost.
export function countWords(text: Uint8Array): Record<string, number> {
  let size = 256; // slots, a power of two, at most half full
  let starts = new Int32Array(size); // where the slot's word first occurs in `text`
  let lengths = new Int32Array(size); // 0: an empty slot
  let hashes = new Int32Array(size);
  let counts = new Int32Array(size);
  let used = 0;
  const n = text.length;
  let i = 0;
  while (i < n) {
    let c = text[i] as number;
    if (c < 97 || c > 122) {
      i += 1;
      continue;
    }
    const start = i;
    let h = 0x811c9dc5; // FNV-1a
    do {
      h = Math.imul(h ^ c, 16777619);
      i += 1;
      c = i < n ? (text[i] as number) : 0;
    } while (c >= 97 && c <= 122);
    const length = i - start;
    let slot = h & (size - 1);
    for (;;) {
      const l = lengths[slot] as number;
      if (l === 0) {
        starts[slot] = start;
        lengths[slot] = length;
        hashes[slot] = h;
        counts[slot] = 1;
        used += 1;
        break;
      }
      if (l === length && hashes[slot] === h && sameBytes(text, starts[slot] as number, start, length)) {
        counts[slot] = (counts[slot] as number) + 1;
        break;
      }
      slot = (slot + 1) & (size - 1);
    }
    if (used * 2 > size) {
      // Twice the slots: every word moves to its slot in the larger table.
      const old = { starts, lengths, hashes, counts };
      size *= 2;
      starts = new Int32Array(size);
      lengths = new Int32Array(size);
      hashes = new Int32Array(size);
      counts = new Int32Array(size);
      for (let k = 0; k < old.lengths.length; k += 1) {
        if (old.lengths[k] === 0) continue;
        let s = (old.hashes[k] as number) & (size - 1);
        while (lengths[s] !== 0) s = (s + 1) & (size - 1);
        starts[s] = old.starts[k] as number;
        lengths[s] = old.lengths[k] as number;
        hashes[s] = old.hashes[k] as number;
        counts[s] = old.counts[k] as number;
      }
    }
  }
  const out: Record<string, number> = Object.create(null) as Record<string, number>;
  const bytes = Buffer.from(text.buffer, text.byteOffset, text.byteLength);
  for (let k = 0; k < size; k += 1) {
    const l = lengths[k] as number;
    if (l > 0) out[bytes.toString('latin1', starts[k], (starts[k] as number) + l)] = counts[k] as number;
  }
  return out;
}

function sameBytes(text: Uint8Array, a: number, b: number, length: number): boolean {
  for (let k = 0; k < length; k += 1) if (text[a + k] !== text[b + k]) return false;
  return true;
}

// The sum of several chunks' counts (the reduce step).
export function mergeCounts(...parts: Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const p of parts) for (const w in p) total[w] = (total[w] ?? 0) + (p[w] ?? 0);
  return total;
}

// A chunk of generated text: `bytes` long, words drawn from a fixed vocabulary with a Zipf-like
// skew, the same for the same seed.
const VOCABULARY = (
  'the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were ' +
  'object store shared memory process worker task queue scheduler lock futex segment plasma ray seal release pin evict ' +
  'tile pixel render reduce map count word result future remote driver lease heartbeat retry crash recover offset'
).split(' ');

export function generateChunk(seed: number, bytes: number): Buffer {
  const out = Buffer.alloc(bytes, 32);
  let x = (seed * 2654435761) >>> 0 || 1;
  let o = 0;
  while (true) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const r = (x % 10_000) / 10_000;
    const word = VOCABULARY[Math.floor(VOCABULARY.length * r * r * r)] ?? 'the';
    if (o + word.length + 1 > bytes) break;
    o += out.write(word, o, 'latin1') + 1;
  }
  return out;
}
