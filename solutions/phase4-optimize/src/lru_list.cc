// Phase 4 reference: the LRU list, a doubly linked list through the entries (entry offsets).
//
// Push and Remove are a handful of stores; a holder killed between two of them leaves the list
// broken, which is why the repair rebuilds it (Rebuild) rather than trusting it. Every link read
// from the segment is checked (EntryAt) before it is followed, so a damaged list is an error,
// never a wild pointer.
#include "lru_list.h"

#include <atomic>
#include <string>

#include "miniray/crash_point.h"
#include "miniray/errors.h"

namespace miniray::phase4 {

namespace {

[[noreturn]] void Corrupt(const std::string& what) {
  throw Error(ErrorCode::kSegmentCorrupt, "LRU list: " + what);
}

// The tail is read without the LRU lock (IsNewest): stored as one atomic word.
void SetTail(LruDomain* d, uint64_t tail) { std::atomic_ref<uint64_t>(d->tail).store(tail, std::memory_order_release); }

}  // namespace

ObjectEntry* LruList::EntryAt(uint64_t offset) const {
  if (offset < table_begin_ || offset >= table_end_ ||
      (offset - table_begin_) % sizeof(ObjectEntry) != 0) {
    Corrupt("link " + std::to_string(offset) + " is not an entry of the table");
  }
  return reinterpret_cast<ObjectEntry*>(segment_.base() + offset);
}

uint64_t LruList::OffsetOf(const ObjectEntry* entry) const {
  return static_cast<uint64_t>(reinterpret_cast<const uint8_t*>(entry) - segment_.base());
}

void LruList::Push(ObjectEntry* entry) {
  if (entry->in_lru != 0) Corrupt("object " + entry->id.Hex() + " is on the list already");
  const uint64_t self = OffsetOf(entry);
  const uint64_t tail = domain_->tail;
  entry->lru_prev = tail;
  entry->lru_next = 0;
  entry->last_use = ++domain_->clock;
  entry->in_lru = 1;
  MINIRAY_CRASH_POINT("phase4.lru.push_linked");
  if (tail != 0) {
    EntryAt(tail)->lru_next = self;
  } else {
    domain_->head = self;
  }
  SetTail(domain_, self);
  domain_->count += 1;
  domain_->bytes += entry->size;
}

void LruList::Remove(ObjectEntry* entry) {
  if (entry->in_lru == 0) return;
  const uint64_t prev = entry->lru_prev;
  const uint64_t next = entry->lru_next;
  if (prev != 0) {
    EntryAt(prev)->lru_next = next;
  } else {
    domain_->head = next;
  }
  MINIRAY_CRASH_POINT("phase4.lru.remove_half");
  if (next != 0) {
    EntryAt(next)->lru_prev = prev;
  } else {
    SetTail(domain_, prev);
  }
  entry->lru_prev = 0;
  entry->lru_next = 0;
  entry->in_lru = 0;
  domain_->count -= 1;
  domain_->bytes -= entry->size;
}

ObjectEntry* LruList::Oldest() const {
  return domain_->head == 0 ? nullptr : EntryAt(domain_->head);
}

ObjectEntry* LruList::Newer(const ObjectEntry* entry) const {
  return entry->lru_next == 0 ? nullptr : EntryAt(entry->lru_next);
}

void LruList::CountEviction(const ObjectEntry* entry) {
  domain_->evicted[domain_->evictions % kEvictionLog] = entry->id;
  domain_->evictions += 1;
  domain_->evicted_bytes += entry->size;
}

void LruList::Rebuild(const std::vector<ObjectEntry*>& entries) {
  domain_->head = 0;
  SetTail(domain_, 0);
  domain_->count = 0;
  domain_->bytes = 0;
  uint64_t clock = domain_->clock;
  for (ObjectEntry* e : entries) {
    const uint64_t self = OffsetOf(e);
    e->lru_prev = domain_->tail;
    e->lru_next = 0;
    e->in_lru = 1;
    if (domain_->tail != 0) {
      EntryAt(domain_->tail)->lru_next = self;
    } else {
      domain_->head = self;
    }
    SetTail(domain_, self);
    domain_->count += 1;
    domain_->bytes += e->size;
    if (e->last_use > clock) clock = e->last_use;
  }
  domain_->clock = clock;
}

}  // namespace miniray::phase4
