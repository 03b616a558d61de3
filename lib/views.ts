// Zero-copy views for the harnesses. The glue exposes the segment's one ArrayBuffer (segment())
// and writes an object's [offset, size] into a bound Float64Array (bindScratch + locate); a view
// is then a window on that ArrayBuffer made here, in JavaScript, which costs about a third of
// making it in C++. Views hold the ArrayBuffer, so they stay readable after close().

export interface ViewSource {
  segment(): ArrayBuffer;
  bindScratch(scratch: Float64Array): void;
}

export class SegmentViews {
  private readonly buffer: ArrayBuffer;
  // [offset, size] of the last object the glue located.
  readonly scratch = new Float64Array(2);

  constructor(source: ViewSource) {
    this.buffer = source.segment();
    source.bindScratch(this.scratch);
  }

  // A Buffer over the object the glue just wrote into `scratch`.
  located(): Buffer {
    return Buffer.from(this.buffer, this.scratch[0], this.scratch[1]);
  }
}
