// Phase 4: the LRU list, Plasma's eviction policy. YOU EDIT THIS FILE and lru_list.cc; keep the
// public interface (ObjectStore calls it).
//
// The list holds every object that may be evicted (sealed, and pinned by nobody), and perhaps some
// pinned ones: a get leaves the object where it is. It lives in the segment, linked through the
// entries themselves (ObjectEntry::lru_prev / lru_next, entry offsets from the segment's first
// byte), so every process sees one order:
//
//   LruDomain::head                                                    LruDomain::tail
//   (least recently used: evicted first)                           (most recently used)
//        entry A  <--prev--  entry B  <--prev--  entry C ...  <--prev--  entry Z
//                 --next-->          --next-->                --next-->
//
// - an object moves to the tail (or joins there) when its last pin is released (a get's release,
//   or its creator's release after seal);
// - a get does not touch the list: pinning needs no LRU lock. Eviction skips a pinned entry it
//   finds, and unlinks it (its release puts it back at the tail);
// - it leaves when it is deleted or evicted;
// - so "recency" is the time of the last release, in whichever process it happened.
// Push and Remove are O(1): no walk, whatever the list's length.
//
// Everything here runs holding the LRU lock (layout.h's lock order: last), which guards the three
// LRU fields of every entry and the LruDomain; an entry's own in_lru also needs its stripe's lock
// to change, so a holder of that stripe may read in_lru, and IsNewest, without the LRU lock. A
// holder killed half-way through a Push leaves a broken list: nothing here repairs it; the
// store's repair rebuilds the list from the entries (Rebuild), in last_use order.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "layout.h"
#include "miniray/segment.h"

namespace miniray::phase4 {

class LruList {
 public:
  // `table_begin`, `table_end`: the entries' region, private copies taken at open. Every offset
  // read from a link is checked against it before use.
  LruList(const Segment& segment, LruDomain* domain, uint64_t table_begin, uint64_t table_end)
      : segment_(segment), domain_(domain), table_begin_(table_begin), table_end_(table_end) {}

  // Appends `entry` at the most recently used end, stamps its last_use with the next clock value,
  // and counts its size in LruDomain::bytes. ERR_SEGMENT_CORRUPT when it is on the list already.
  void Push(ObjectEntry* entry);
  // Unlinks `entry` (anywhere on the list) in O(1). Does nothing when it is not on the list.
  void Remove(ObjectEntry* entry);
  // GIVEN. Whether `entry` is the most recently used end (the tail): its last release then has
  // nothing to move. The one call here that needs no LRU lock: the caller holds the entry's stripe
  // and has seen in_lru == 1, so the entry cannot leave the list meanwhile; other processes can
  // only push entries after it, and a release that reads the tail just before such a push happened
  // before it. An aligned 8-byte load, never torn; acquire, as a lock would.
  bool IsNewest(const ObjectEntry* entry) const {
    return std::atomic_ref<uint64_t>(domain_->tail).load(std::memory_order_acquire) == OffsetOf(entry);
  }
  // The least recently used entry, or nullptr when the list is empty.
  ObjectEntry* Oldest() const;
  // The entry after `entry` towards the most recently used end, or nullptr at the tail.
  ObjectEntry* Newer(const ObjectEntry* entry) const;
  // Records one eviction of `entry` (counters and the log of evicted ids). Call after Remove.
  void CountEviction(const ObjectEntry* entry);
  // Empties the list and pushes `entries` in the given order (oldest first), keeping each entry's
  // last_use. The store's repair calls it with every evictable entry sorted by last_use.
  void Rebuild(const std::vector<ObjectEntry*>& entries);

  uint64_t count() const { return domain_->count; }
  uint64_t bytes() const { return domain_->bytes; }

 private:
  // The entry at segment offset `offset`, after checking it lies on an entry boundary of the table.
  ObjectEntry* EntryAt(uint64_t offset) const;
  uint64_t OffsetOf(const ObjectEntry* entry) const;

  const Segment& segment_;
  LruDomain* domain_;
  uint64_t table_begin_;
  uint64_t table_end_;
};

}  // namespace miniray::phase4
