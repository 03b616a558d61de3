// The fields of phase 1's segment as the reference (and the skeleton's suggested header) lays them
// out, for the hidden fuzz test. A student whose layout differs is attacked at the same offsets,
// which hit other fields of theirs: the property tested (typed errors, never a signal) holds for any
// layout.
import { field, type Field } from '../../../testkit/hostile.js';

export const HEADER_BYTES = 128; // sizeof(Header) = 120, rounded up to the 64-byte alignment of the table
export const ENTRY_BYTES = 40;

export const HEADER_FIELDS: readonly Field[] = [
  field('header.magic', 0, 8, 'magic'),
  field('header.layout_version', 8, 4, 'word'),
  field('header.state', 12, 4, 'word'),
  field('header.segment_size', 16, 8, 'size'),
  field('header.capacity', 24, 8, 'size'),
  field('header.max_objects', 32, 8, 'count'),
  field('header.table_offset', 40, 8, 'offset'),
  field('header.data_offset', 48, 8, 'offset'),
  field('header.next_offset', 56, 8, 'offset'),
  field('header.object_count', 64, 8, 'count'),
  // pthread_mutex_t (glibc, x86-64 and arm64): __lock, __count, __owner, __nusers, __kind, __spins
  // and __elision, then the robust list's two pointers.
  field('header.mutex.__lock', 72, 4, 'lock'),
  field('header.mutex.__count', 76, 4, 'lock'),
  field('header.mutex.__owner', 80, 4, 'lock'),
  field('header.mutex.__nusers', 84, 4, 'lock'),
  field('header.mutex.__kind', 88, 4, 'lock'),
  field('header.mutex.__spins', 92, 4, 'lock'),
  field('header.mutex.__list.__prev', 96, 8, 'lock'),
  field('header.mutex.__list.__next', 104, 8, 'lock'),
  field('header.holder_pid', 112, 4, 'word'),
  field('header.recoveries', 116, 4, 'word'),
];

// Table entry i: id (20 bytes), reserved, offset (relative to the data region), size.
export function entryFields(i: number): Field[] {
  const base = HEADER_BYTES + i * ENTRY_BYTES;
  return [
    { name: `table[${i}].id`, offset: base, width: 20, kind: 'bytes' },
    field(`table[${i}].reserved`, base + 20, 4, 'word'),
    field(`table[${i}].offset`, base + 24, 8, 'offset'),
    field(`table[${i}].size`, base + 32, 8, 'size'),
  ];
}

// Offsets of the suggested header's geometry.
export const GEOMETRY = { segmentSize: 16, capacity: 24, maxObjects: 32, tableOffset: 40, dataOffset: 48, nextOffset: 56, objectCount: 64 } as const;

// Whether a segment follows the suggested header (the reference's): the sizes stats() reports sit
// where the suggested header keeps them. Tests that need to know which word is which only assert
// that much when this holds.
export function usesSuggestedLayout(
  header: Buffer,
  stats: { segmentSize: number; capacity: number; maxObjects: number; usedBytes: number; objectCount: number },
): boolean {
  const at = (o: number): number => Number(header.readBigUInt64LE(o));
  return (
    at(GEOMETRY.segmentSize) === stats.segmentSize &&
    at(GEOMETRY.capacity) === stats.capacity &&
    at(GEOMETRY.maxObjects) === stats.maxObjects &&
    at(GEOMETRY.nextOffset) === stats.usedBytes &&
    at(GEOMETRY.objectCount) === stats.objectCount
  );
}
