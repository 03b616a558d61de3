// Object ids: 20 bytes in C++. In TypeScript an id is written as 40 lowercase hex digits (ObjectId:
// what the harnesses return, print and compare), and may be handed to any harness call that takes
// an id as its 20 bytes instead (ObjectIdBytes, from idBytes()): the glue then copies 20 bytes
// rather than reading and parsing a 40-character string, about 50 ns less per call. Convert an id
// once and keep the bytes where a hot loop passes the same id again and again.
import { randomBytes } from 'node:crypto';

declare const objectIdBrand: unique symbol;
export type ObjectId = string & { readonly [objectIdBrand]: true };

declare const objectIdBytesBrand: unique symbol;
// The 20 bytes of an id. Do not write into it: the id would change under whoever holds it.
export type ObjectIdBytes = Uint8Array & { readonly [objectIdBytesBrand]: true };

// Either form, wherever a harness takes an id.
export type IdLike = ObjectId | ObjectIdBytes;

export const OBJECT_ID_BYTES = 20;

const HEX40 = /^[0-9a-f]{40}$/;

export function isObjectId(value: unknown): value is ObjectId {
  return typeof value === 'string' && HEX40.test(value);
}

// Accepts 40 hex digits (any case) and returns the canonical lowercase id.
export function objectId(hex: string): ObjectId {
  const lower = hex.toLowerCase();
  if (!HEX40.test(lower)) throw new TypeError(`not an object id (40 hex digits): '${hex}'`);
  return lower as ObjectId;
}

export function randomObjectId(): ObjectId {
  return randomBytes(OBJECT_ID_BYTES).toString('hex') as ObjectId;
}

// The id's 20 bytes (a new array each call: convert once, reuse it).
export function idBytes(id: IdLike): ObjectIdBytes {
  if (typeof id !== 'string') return id;
  return new Uint8Array(Buffer.from(objectId(id), 'hex')) as ObjectIdBytes;
}

// The id as 40 hex digits, for printing and comparing.
export function idHex(id: IdLike): ObjectId {
  if (typeof id === 'string') return id;
  if (id.length !== OBJECT_ID_BYTES) throw new TypeError(`not an object id (20 bytes): ${id.length} bytes`);
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex') as ObjectId;
}
