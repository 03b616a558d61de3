// The demo's remote functions. Plain functions of their arguments: the single-process run, the
// mini-Ray workers and the Node-IPC workers all call these same exports.

export interface TileSpec {
  readonly x0: number; // the tile's first pixel column and row
  readonly y0: number;
  readonly w: number;
  readonly h: number;
  readonly width: number; // the whole image
  readonly height: number;
  readonly centerX: number; // the complex plane's window
  readonly centerY: number;
  readonly span: number; // width of the window on the real axis
  readonly maxIter: number;
}

// One tile of the Mandelbrot set as RGB bytes (w * h * 3), smooth-coloured.
export function renderTile(t: TileSpec): Buffer {
  const out = Buffer.allocUnsafe(t.w * t.h * 3);
  const scale = t.span / t.width;
  const left = t.centerX - (t.width / 2) * scale;
  const top = t.centerY + (t.height / 2) * scale;
  let o = 0;
  for (let py = t.y0; py < t.y0 + t.h; py += 1) {
    const ci = top - py * scale;
    for (let px = t.x0; px < t.x0 + t.w; px += 1) {
      const cr = left + px * scale;
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
      if (i >= t.maxIter) {
        out[o] = 0;
        out[o + 1] = 0;
        out[o + 2] = 0;
      } else {
        // Smooth iteration count, then a cosine palette.
        const nu = i + 1 - Math.log2(Math.log2(r2 + i2) / 2);
        const s = nu * 0.035;
        out[o] = Math.round(127.5 * (1 + Math.cos(6.2832 * (s + 0.0))));
        out[o + 1] = Math.round(127.5 * (1 + Math.cos(6.2832 * (s + 0.15))));
        out[o + 2] = Math.round(127.5 * (1 + Math.cos(6.2832 * (s + 0.3))));
      }
      o += 3;
    }
  }
  return out;
}

// Word counts of one chunk of text (ASCII lowercase words), as a plain object.
export function countWords(text: Uint8Array): Record<string, number> {
  const counts: Record<string, number> = Object.create(null) as Record<string, number>;
  let start = -1;
  const s = Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('latin1');
  for (let i = 0; i <= s.length; i += 1) {
    const c = i < s.length ? s.charCodeAt(i) : 32;
    const letter = c >= 97 && c <= 122;
    if (letter && start < 0) start = i;
    else if (!letter && start >= 0) {
      const w = s.slice(start, i);
      counts[w] = (counts[w] ?? 0) + 1;
      start = -1;
    }
  }
  return counts;
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
