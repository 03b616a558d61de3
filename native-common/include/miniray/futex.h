// Waiting across processes on a 32-bit word in shared memory (Linux futex, never
// FUTEX_PRIVATE_FLAG, so waiters in other processes are found by the word's physical page).
//
// The pattern: read a sequence word, drop the lock, FutexWait(word, seen, ...). A waker changes
// the state under the lock, bumps the word and calls FutexWakeAll. A waiter or waker killed at any
// point leaves nothing behind: unlike a process-shared pthread_cond_t (glibc BZ#21422), there is
// no internal waiter count to corrupt.
#pragma once

#include <atomic>
#include <cstdint>

namespace miniray {

// Sleeps while *word == expected, at most timeout_ms (negative: no limit). Returns false on
// timeout; true when woken or when the word already differed (spurious wake-ups included, so
// callers re-check their condition in a loop).
bool FutexWait(std::atomic<uint32_t>* word, uint32_t expected, int64_t timeout_ms);
void FutexWakeAll(std::atomic<uint32_t>* word);

// Milliseconds on CLOCK_MONOTONIC, for computing remaining time across spurious wake-ups.
int64_t MonotonicMs();

}  // namespace miniray
