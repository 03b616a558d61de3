// How the runtime lays a value out as an object in the phase-2 store.
//
//   byte 0      kind: 1 Buffer, 2 typed array, 3 any other value (v8.serialize), 4 a task's error
//   byte 1      for kind 2: which typed array (TYPED_ARRAYS below)
//   bytes 2..7  zero
//   bytes 8..   the payload
//
// Payloads start 8 bytes into an object, and the store aligns every object on 64 bytes, so a
// Float64Array or a BigInt64Array can be a zero-copy view of the store.
import { deserialize, serialize } from 'node:v8';

import type { ObjectId, ObjectStore } from '../phase2-objects/index.js';

export const HEADER_BYTES = 8;

const enum Kind {
  Buffer = 1,
  Typed = 2,
  Serialized = 3,
  Error = 4,
}

type TypedArrayCtor =
  | Uint8ArrayConstructor
  | Int8ArrayConstructor
  | Uint8ClampedArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

const TYPED_ARRAYS: readonly TypedArrayCtor[] = [
  Uint8Array,
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
];

// What a task threw, as it travels back to the caller.
export interface ErrorRecord {
  readonly name: string;
  readonly message: string;
  readonly stack: string;
  readonly code?: string;
}

export type Decoded =
  | { readonly kind: 'value'; readonly value: unknown; readonly zeroCopy: boolean }
  | { readonly kind: 'error'; readonly error: ErrorRecord };

function header(kind: Kind, sub = 0): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES);
  h[0] = kind;
  h[1] = sub;
  return h;
}

function bytesOf(value: unknown): { head: Uint8Array; body: Uint8Array } {
  if (Buffer.isBuffer(value)) return { head: header(Kind.Buffer), body: value };
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const index = TYPED_ARRAYS.findIndex((c) => value.constructor === c);
    if (index >= 0) {
      return { head: header(Kind.Typed, index), body: new Uint8Array(value.buffer, value.byteOffset, value.byteLength) };
    }
  }
  return { head: header(Kind.Serialized), body: serialize(value) };
}

export function errorRecord(e: unknown): ErrorRecord {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return {
      name: e.name,
      message: e.message,
      stack: e.stack ?? `${e.name}: ${e.message}`,
      ...(typeof code === 'string' ? { code } : {}),
    };
  }
  return { name: 'Error', message: `a non-Error value was thrown: ${String(e)}`, stack: '' };
}

// Writes `value` as object `id`: create, copy, seal, release.
export function writeValue(store: ObjectStore, id: ObjectId, value: unknown): void {
  writeBytes(store, id, bytesOf(value));
}

export function writeError(store: ObjectStore, id: ObjectId, error: ErrorRecord): void {
  writeBytes(store, id, { head: header(Kind.Error), body: serialize(error) });
}

function writeBytes(store: ObjectStore, id: ObjectId, { head, body }: { head: Uint8Array; body: Uint8Array }): void {
  const view = store.create(id, HEADER_BYTES + body.byteLength);
  try {
    view.set(head, 0);
    view.set(body, HEADER_BYTES);
    store.seal(id);
  } catch (e) {
    store.abort(id);
    throw e;
  }
  store.release(id);
}

// A result written in place (context.ts, resultBuffer): the object is created first, unsealed, and
// its payload handed to the task; the header follows when the task returns. The caller holds the
// creator's pin until sealInPlace or abort.
export function createInPlace(store: ObjectStore, id: ObjectId, bytes: number): Buffer {
  return store.create(id, HEADER_BYTES + bytes);
}

// Seals an object made by createInPlace as `value`, if `value` is its payload: a Buffer, or a typed
// array over exactly those bytes. Returns false (and leaves the object as it was) otherwise.
export function sealInPlace(store: ObjectStore, id: ObjectId, view: Buffer, value: unknown): boolean {
  if (!ArrayBuffer.isView(value) || value instanceof DataView) return false;
  const payload = view.subarray(HEADER_BYTES);
  if (value.buffer !== payload.buffer || value.byteOffset !== payload.byteOffset || value.byteLength !== payload.byteLength) return false;
  const index = TYPED_ARRAYS.findIndex((c) => value.constructor === c);
  if (!Buffer.isBuffer(value) && index < 0) return false;
  view.set(Buffer.isBuffer(value) ? header(Kind.Buffer) : header(Kind.Typed, index), 0);
  store.seal(id);
  store.release(id);
  return true;
}

// Reads a pinned view of an object. A Buffer or typed array comes back as a zero-copy view of the
// store (zeroCopy: the caller keeps the pin while the view is in use); anything else is copied
// out, and the caller may release at once.
export function decode(view: Buffer): Decoded {
  const kind = view[0];
  const body = view.subarray(HEADER_BYTES);
  switch (kind) {
    case Kind.Buffer:
      return { kind: 'value', value: body, zeroCopy: true };
    case Kind.Typed: {
      const ctor = TYPED_ARRAYS[view[1] ?? 0] ?? Uint8Array;
      const aligned = body.byteOffset % ctor.BYTES_PER_ELEMENT === 0;
      const src = aligned ? body : Buffer.from(body); // a copy only if the store misaligned it
      return {
        kind: 'value',
        value: new ctor(src.buffer as ArrayBuffer, src.byteOffset, src.byteLength / ctor.BYTES_PER_ELEMENT),
        zeroCopy: aligned,
      };
    }
    case Kind.Serialized:
      return { kind: 'value', value: deserialize(body), zeroCopy: false };
    case Kind.Error:
      return { kind: 'error', error: deserialize(body) as ErrorRecord };
    default:
      throw new Error(`object is not a runtime value (kind byte ${String(kind)})`);
  }
}
