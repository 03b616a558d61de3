// Phase 1: YOUR CODE GOES HERE.
//
// Every function below throws "not implemented" until you write it. `npm test -- phase1` runs the
// tests against this file; `npm start` shows which checklist item to work on next. The lesson is
// phase1-shm/README.md.
#include "shm_store.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "miniray/errors.h"

namespace miniray::phase1 {

ShmStore::ShmStore(std::string name, uint8_t* base, size_t size, uint32_t lock_timeout_ms)
    : name_(std::move(name)), base_(base), size_(size), lock_timeout_ms_(lock_timeout_ms) {}

ShmStore::~ShmStore() {
  // TODO(student): unmap what the constructor was given. (The glue keeps this object alive for as
  // long as JavaScript holds a view into the mapping, so unmapping here is safe.)
}

std::unique_ptr<ShmStore> ShmStore::Create([[maybe_unused]] const std::string& name,
                                           [[maybe_unused]] const ShmOptions& options) {
  // TODO(student):
  //  1. Validate the name (ERR_BAD_NAME) and the options (ERR_INVALID_ARGUMENT).
  //  2. Work out the layout: header, then the table of max_objects entries, then the data region,
  //     each starting on a kAlignment boundary; round the total up to a page.
  //  3. Make the segment: the lesson's "A segment's life" lists the calls. Which flags make a
  //     second create of the same name fail (ERR_SEGMENT_EXISTS), and which mode keeps other users
  //     out? How does a full /dev/shm fail here (ERR_SHM_FULL) rather than with SIGBUS later?
  //  4. Initialise the header and the mutex (item 1.2; for step 1.1 the header alone: see the
  //     lesson: which attributes does a mutex in shared memory need, and which does one need to
  //     survive a holder that dies?).
  //  5. Publish the header last, so an opener never sees it half-written.
  //  6. Keep the geometry you computed in geometry_: it is what every operation uses.
  //  On any failure after shm_open, undo what you did: nothing may be left behind in /dev/shm.
  MINIRAY_TODO("phase1 ShmStore::Create");
}

std::unique_ptr<ShmStore> ShmStore::Open([[maybe_unused]] const std::string& name,
                                         [[maybe_unused]] uint32_t lock_timeout_ms) {
  // TODO(student): shm_open without O_CREAT (ENOENT -> ERR_SEGMENT_NOT_FOUND), learn the size and
  // the owner with fstat: refuse a segment another user owns or that group or others may open
  // (ERR_LAYOUT_MISMATCH). Then mmap, and check the header before trusting anything in it
  // (ERR_LAYOUT_MISMATCH), copying its geometry into geometry_ (see CheckLayout).
  MINIRAY_TODO("phase1 ShmStore::Open");
}

void ShmStore::Unlink([[maybe_unused]] const std::string& name) {
  // TODO(student): shm_unlink; ENOENT -> ERR_SEGMENT_NOT_FOUND.
  MINIRAY_TODO("phase1 ShmStore::Unlink");
}

ObjectEntry* ShmStore::table() const {
  return reinterpret_cast<ObjectEntry*>(base_ + geometry_.table_offset);
}

void ShmStore::CheckLayout() {
  // TODO(student): helper for Open. Read every size and offset of the header once, check them
  // against the mapping, then keep them in geometry_: another process may rewrite the header at
  // any moment, so the header's fields are never read again. Write each check so it cannot
  // overflow: what is `table_offset + max_objects * 40` when table_offset is close to 2^64?
  MINIRAY_TODO("phase1 ShmStore::CheckLayout");
}

void ShmStore::Lock() {
  // TODO(student): lock with a deadline of lock_timeout_ms_ (ERR_LOCK_TIMEOUT naming the holder's
  // pid). What must you do when the call tells you the previous owner died?
  MINIRAY_TODO("phase1 ShmStore::Lock");
}

void ShmStore::Unlock() {
  // TODO(student)
  MINIRAY_TODO("phase1 ShmStore::Unlock");
}

ShmStats ShmStore::Stats() {
  // TODO(student): the counts and sizes, read under the lock (the tests of the lock use it).
  MINIRAY_TODO("phase1 ShmStore::Stats");
}

ObjectId ShmStore::Put([[maybe_unused]] const uint8_t* data, [[maybe_unused]] size_t size) {
  // TODO(student): under the lock, check the table (ERR_TABLE_FULL) and the data region
  // (ERR_SHM_FULL), copy the bytes to the next aligned offset, fill an entry, publish the counts.
  // The counts live in shared memory: check them against geometry_ before using them
  // (ERR_SEGMENT_CORRUPT). Which order must the final stores happen in, and what stops the
  // compiler from reordering them?
  MINIRAY_TODO("phase1 ShmStore::Put");
}

ObjectLocation ShmStore::Get([[maybe_unused]] const ObjectId& id) {
  // TODO(student): under the lock, scan the table for `id` (ERR_OBJECT_NOT_FOUND). Return where
  // the bytes are, as an offset from the segment's first byte. Never copy them, and never return
  // a location outside the data region (ERR_SEGMENT_CORRUPT), whatever the entry says.
  MINIRAY_TODO("phase1 ShmStore::Get");
}

}  // namespace miniray::phase1
