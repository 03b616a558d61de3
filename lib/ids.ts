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

// A fresh random id. The randomness is drawn 256 ids at a time: one call into the system's
// generator costs a few microseconds, more than a whole create, so a loop that makes an id per
// object would otherwise measure the generator. Each id is used once (the pool is per thread:
// module state is per isolate, and Node never forks a process that shares it).
const POOL_IDS = 256;
let pool = Buffer.alloc(0);
let poolAt = 0;

export function randomObjectId(): ObjectId {
  if (poolAt + OBJECT_ID_BYTES > pool.length) {
    pool = randomBytes(OBJECT_ID_BYTES * POOL_IDS);
    poolAt = 0;
  }
  const id = pool.toString('hex', poolAt, poolAt + OBJECT_ID_BYTES);
  poolAt += OBJECT_ID_BYTES;
  return id as ObjectId;
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
