// What the demo writes: a PNG of the image and an HTML page of the task timeline.
import { writeFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';

import type { TimelineEntry } from '../index.js';

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

// The rows of one width x height frame, given as bands of whole RGBA rows top to bottom, as RGB
// rows each after a filter byte 0 (none), deflated. With `shrink` > 1 each pixel written is the
// mean of a shrink x shrink block (the frame is width / shrink x height / shrink).
function idat(width: number, height: number, bands: readonly Uint32Array[], level: number, shrink = 1): Buffer {
  const rows: Uint8Array[] = [];
  for (const band of bands) {
    const rgba = new Uint8Array(band.buffer, band.byteOffset, band.byteLength);
    for (let at = 0; at < rgba.length; at += width * 4) rows.push(rgba.subarray(at, at + width * 4));
  }
  if (rows.length !== height) throw new Error(`a frame of ${rows.length} rows, not ${height}`);
  const w = Math.floor(width / shrink);
  const h = Math.floor(height / shrink);
  const raw = Buffer.alloc((w * 3 + 1) * h);
  const area = shrink * shrink;
  let o = 0;
  for (let y = 0; y < h; y += 1) {
    o += 1; // the row's filter byte
    for (let x = 0; x < w; x += 1) {
      for (let c = 0; c < 3; c += 1) {
        let sum = 0;
        for (let dy = 0; dy < shrink; dy += 1) {
          const row = rows[y * shrink + dy] as Uint8Array;
          for (let dx = 0; dx < shrink; dx += 1) sum += row[(x * shrink + dx) * 4 + c] as number;
        }
        raw[o] = Math.round(sum / area);
        o += 1;
      }
    }
  }
  return deflateSync(raw, { level });
}

// An 8-bit RGB PNG of `frames` frames, given as bands of RGBA rows (each frame's bands top to
// bottom, frame after frame; the alpha byte is dropped). With several frames it is an animated
// PNG (APNG) that loops, `delayMs` a frame; a viewer without APNG shows the first frame. `shrink`
// writes it smaller (each pixel the mean of a shrink x shrink block), so that many large frames
// stay a file a browser opens.
export function writePng(path: string, width: number, height: number, bands: readonly Uint32Array[], frames = 1, delayMs = 100, shrink = 1): void {
  if (!Number.isInteger(shrink) || shrink < 1 || width % shrink !== 0 || height % shrink !== 0) throw new Error(`cannot shrink ${width}x${height} by ${shrink}`);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width / shrink, 0);
  ihdr.writeUInt32BE(height / shrink, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)];
  if (bands.length % frames !== 0) throw new Error(`${bands.length} bands do not make ${frames} frames`);
  const perFrame = bands.length / frames;
  const frameBands = (f: number): readonly Uint32Array[] => bands.slice(f * perFrame, (f + 1) * perFrame);
  if (frames === 1) {
    parts.push(chunk('IDAT', idat(width, height, bands, 6, shrink)));
  } else {
    const actl = Buffer.alloc(8);
    actl.writeUInt32BE(frames, 0); // and 0 plays: for ever
    parts.push(chunk('acTL', actl));
    let sequence = 0;
    for (let f = 0; f < frames; f += 1) {
      const fctl = Buffer.alloc(26); // offsets 0, dispose and blend 0: each frame replaces the last
      fctl.writeUInt32BE(sequence++, 0);
      fctl.writeUInt32BE(width / shrink, 4);
      fctl.writeUInt32BE(height / shrink, 8);
      fctl.writeUInt16BE(delayMs, 20);
      fctl.writeUInt16BE(1000, 22);
      parts.push(chunk('fcTL', fctl));
      const data = idat(width, height, frameBands(f), 3, shrink);
      if (f === 0) {
        parts.push(chunk('IDAT', data));
      } else {
        const seq = Buffer.alloc(4);
        seq.writeUInt32BE(sequence++, 0);
        parts.push(chunk('fdAT', Buffer.concat([seq, data])));
      }
    }
  }
  parts.push(chunk('IEND', Buffer.alloc(0)));
  writeFileSync(path, Buffer.concat(parts));
}

const escape = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);

const COLOURS = ['#4e79a7', '#59a14f', '#edc948', '#b07aa1', '#76b7b2', '#ff9da7'];

// One lane per worker slot, one bar per task attempt; a killed attempt is red, a retry outlined.
export function writeTimeline(path: string, title: string, note: string, entries: readonly TimelineEntry[], startedAt: number, endedAt: number): void {
  const lanes = [...new Set(entries.map((e) => e.lane))].sort((a, b) => a - b);
  const fns = [...new Set(entries.map((e) => e.fn))];
  const total = Math.max(1, endedAt - startedAt);
  const pct = (t: number): string => `${(((t - startedAt) / total) * 100).toFixed(3)}%`;
  const bars = (lane: number): string =>
    entries
      .filter((e) => e.lane === lane)
      .map((e) => {
        const end = e.end ?? endedAt;
        const colour = e.outcome === 'killed' ? '#e15759' : COLOURS[fns.indexOf(e.fn) % COLOURS.length];
        const cls = `bar${e.attempt > 1 ? ' retry' : ''}${e.outcome === 'killed' ? ' killed' : ''}`;
        const tip = `${e.fn.split('#')[1] ?? e.fn} · task ${e.task} · attempt ${e.attempt} · pid ${e.pid} · ${(end - e.start).toFixed(1)} ms · ${e.outcome}`;
        return `<div class="${cls}" style="left:${pct(e.start)};width:calc(${pct(end)} - ${pct(e.start)});background:${colour}" title="${escape(tip)}"></div>`;
      })
      .join('');
  const legend = fns
    .map((f, i) => `<span><i style="background:${COLOURS[i % COLOURS.length]}"></i>${escape(f.split('#')[1] ?? f)}</span>`)
    .join('');
  const killed = entries.filter((e) => e.outcome === 'killed').length;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#222}
.lane{display:flex;align-items:center;margin:4px 0}
.name{width:90px;flex:none;color:#555}
.track{position:relative;height:26px;flex:1;background:#f3f3f3;border-radius:3px}
.bar{position:absolute;top:3px;height:20px;border-radius:2px;min-width:1px;opacity:.9}
.bar.retry{outline:2px solid #222;outline-offset:-2px}
.bar.killed{background-image:repeating-linear-gradient(45deg,transparent 0 4px,rgba(255,255,255,.5) 4px 8px)}
.legend span{margin-right:16px}.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
</style></head><body>
<h1>${escape(title)}</h1>
<p>${entries.length} task attempts over ${(total / 1000).toFixed(2)} s on ${lanes.length} workers${killed > 0 ? `; ${killed} killed (red, striped) and retried (outlined)` : ''}. Hover a bar for its task. ${escape(note)}</p>
<p class="legend">${legend}<span><i style="background:#e15759"></i>killed</span></p>
${lanes.map((l) => `<div class="lane"><div class="name">worker ${l}</div><div class="track">${bars(l)}</div></div>`).join('\n')}
</body></html>
`;
  writeFileSync(path, html);
}
