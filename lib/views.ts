// Zero-copy views for the harnesses. The glue exposes the segment's one ArrayBuffer (segment())
// and writes an object's [offset, size] within it into two slots of its own that JavaScript reads
// through a Float64Array (scratch(), written by locate); a view is then a window on that ArrayBuffer
// made here, in JavaScript, which costs about a third of making it in C++. Views hold the
// ArrayBuffer, so they stay readable after close().
//
// The ArrayBuffer is asked for on the first view, not before: a handle that never hands out a view
// never makes one, and its close() unmaps the segment at once. release() (called by close()) drops
// this object's own hold, so that only views still held by the caller keep the mapping alive.

export interface ViewSource {
  segment(): ArrayBuffer;
  // The glue's location slots, [offset, size] of the last object located (the same array each call).
  scratch(): Float64Array;
}

// Node's own Buffer class (Buffer[Symbol.species]): constructing it directly over (buffer, offset,
// length) skips Buffer.from's argument checks and type probe, about half the cost of a view. The
// fallback keeps Buffer.from for a runtime that does not expose it.
type BufferClass = new (buffer: ArrayBuffer, byteOffset: number, length: number) => Buffer;
const species = (Buffer as unknown as { [Symbol.species]?: unknown })[Symbol.species];
const FastBuffer: BufferClass =
  typeof species === 'function' && Buffer.isBuffer(new (species as BufferClass)(new ArrayBuffer(1), 0, 1))
    ? (species as BufferClass)
    : (class {
        constructor(buffer: ArrayBuffer, byteOffset: number, length: number) {
          return Buffer.from(buffer, byteOffset, length);
        }
      } as unknown as BufferClass);

export class SegmentViews {
  private buffer: ArrayBuffer | undefined;
  // [offset, size] of the last object the glue located, relative to the segment's ArrayBuffer.
  readonly scratch: Float64Array;

  constructor(private readonly source: ViewSource) {
    this.scratch = source.scratch();
  }

  // A Buffer over the object the glue just wrote into `scratch`.
  located(): Buffer {
    this.buffer ??= this.source.segment();
    // The glue checked [offset, offset + size) against the buffer before writing it.
    return new FastBuffer(this.buffer, this.scratch[0] as number, this.scratch[1] as number);
  }

  release(): void {
    this.buffer = undefined;
  }
}
