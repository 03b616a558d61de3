// Object ids: 20 bytes in C++, 40 lowercase hex digits in TypeScript.
import { randomBytes } from 'node:crypto';

declare const objectIdBrand: unique symbol;
export type ObjectId = string & { readonly [objectIdBrand]: true };

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
  return randomBytes(20).toString('hex') as ObjectId;
}
