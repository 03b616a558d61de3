// Phase 1's checklist: what is graded, for how many points, and where to look.
import { defineChecklist } from '../testkit/checklist.js';

export const checklist = defineChecklist('phase1', {
  segment: {
    id: '1.1',
    title: 'Create, open and unlink a POSIX shared memory segment with a checked header',
    points: 25,
    todo: 'ShmStore::Create, ShmStore::Open and ShmStore::Unlink in phase1-shm/src/shm_store.cc',
    hint:
      'shm_open with O_CREAT | O_EXCL and mode 0600, then ftruncate and mmap. The creator writes the ' +
      'header (magic, version, sizes) and publishes it last; Open checks every field against what it mapped.',
  },
  mutex: {
    id: '1.2',
    title: 'A process-shared, robust mutex with bounded waits',
    points: 25,
    todo: 'the mutex set-up in ShmStore::Create, then ShmStore::Lock and ShmStore::Unlock',
    hint:
      'A mutex in shared memory needs PTHREAD_PROCESS_SHARED; to survive a holder that dies it also needs ' +
      'PTHREAD_MUTEX_ROBUST, and the new owner must handle EOWNERDEAD. pthread_mutex_clocklock bounds the wait; ' +
      'remember who holds the lock so a timeout can name them.',
  },
  putget: {
    id: '1.3',
    title: 'put and get: bump allocation, a metadata table, zero-copy reads',
    points: 30,
    todo: 'ShmStore::Put, ShmStore::Get and ShmStore::Stats',
    hint:
      'Under the lock: check both the table and the data region have room, copy the bytes to an aligned ' +
      'offset, fill a table entry, and only then publish the new counts. Get returns where the bytes are, ' +
      'never a copy of them.',
  },
  multiprocess: {
    id: '1.4',
    title: 'Many processes at once: nothing lost, nothing corrupted',
    points: 20,
    todo: 'everything above, exercised by several Node processes attached to one segment',
    hint:
      'Another process maps the segment at another address: store offsets, never pointers. Every read and ' +
      'write of shared state happens under the lock.',
  },
});
